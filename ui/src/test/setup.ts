// Auto-cleanup between tests comes from svelteTesting() in vite.config.ts.
import '@testing-library/jest-dom/vitest';
