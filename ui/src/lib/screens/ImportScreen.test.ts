import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import ImportScreen from './ImportScreen.svelte';
import { batchCounts, getSettings, importCommit, importPreview, onOrdersChanged } from '$lib/backend';
import { setUiLocale } from '$lib/i18n';
import { makeCounts, makeOrder, makePreview, makeSettings } from '../../test/fixtures';
import { changeFeed } from '../../test/backend-mock';

vi.mock('$lib/backend', async (importOriginal) => {
  const actual = await importOriginal<typeof import('$lib/backend')>();
  return {
    ...actual,
    batchCounts: vi.fn(),
    getSettings: vi.fn(),
    importCommit: vi.fn(),
    importPreview: vi.fn(),
    onOrdersChanged: vi.fn(),
  };
});

const mPreview = vi.mocked(importPreview);
let feed: ReturnType<typeof changeFeed>;
const CONTENT = '手机号,面值(元)\n13812345678,50\n';

beforeEach(() => {
  setUiLocale('zh-CN');
  feed = changeFeed();
  mPreview.mockReset().mockResolvedValue(makePreview());
  vi.mocked(getSettings).mockReset().mockResolvedValue(makeSettings());
  vi.mocked(importCommit).mockReset();
  vi.mocked(batchCounts).mockReset();
  vi.mocked(onOrdersChanged).mockReset().mockImplementation(feed.listen);
});

async function upload(name = 'orders.xlsx') {
  const user = userEvent.setup();
  render(ImportScreen);
  await waitFor(() => expect(getSettings).toHaveBeenCalled());
  await user.upload(screen.getByTestId('import-file'), new File([CONTENT], name));
  await screen.findByTestId('import-preview-table');
  return user;
}

describe('batch import', () => {
  it('sends the file bytes and provider to import_preview', async () => {
    await upload();
    const req = mPreview.mock.calls[0][0];
    expect(req.fileName).toBe('orders.xlsx');
    expect(req.bytes).toEqual(Array.from(new TextEncoder().encode(CONTENT)));
    expect(req).toMatchObject({ provider: 'juhe', sheet: null, mapping: null, allowDuplicates: false, hasHeader: null });
  });

  it('shows every row with its number, status and messages naming the column', async () => {
    await upload();
    const row3 = screen.getByTestId('import-row-3');
    expect(row3).toHaveAttribute('data-status', 'invalid');
    expect(within(row3).getByTestId('import-row-message')).toHaveTextContent('A 列（手机号）：“1391234567”不是 11 位手机号');
    expect(screen.getByTestId('import-row-4')).toHaveTextContent('B 列（面值(元)）：聚合不销售 25 元面值');
    expect(screen.getByTestId('import-row-5')).toHaveAttribute('data-status', 'duplicate');
    expect(screen.getByTestId('import-row-6')).toHaveAttribute('data-status', 'skipped');
    const valid = screen.getByTestId('import-row-2');
    expect(valid).toHaveAttribute('data-status', 'valid');
    expect(valid).toHaveTextContent('13812345678');
    expect(valid).toHaveTextContent('¥50.00');
    expect(valid).toHaveTextContent('¥49.75');
  });

  it('imports only the valid rows when the user explicitly leaves the bad ones out', async () => {
    vi.mocked(importCommit).mockResolvedValue({ batchId: '7', orders: 1 } as never);
    vi.mocked(batchCounts).mockResolvedValue(makeCounts());
    const user = await upload();
    expect(screen.getByTestId('import-commit')).toBeDisabled();
    await user.click(screen.getByTestId('import-skip-invalid'));
    expect(screen.getByTestId('import-commit')).toBeEnabled();
    await user.click(screen.getByTestId('import-commit'));
    expect(await screen.findByTestId('import-confirm-skipped')).toHaveTextContent('3 行无效或重复，不会导入');
    await user.click(screen.getByTestId('import-confirm-ok'));
    await waitFor(() => expect(importCommit).toHaveBeenCalled());
    expect(vi.mocked(importCommit).mock.calls[0][0]).toMatchObject({ skipInvalid: true });
  });

  it('shows the totals against the balance and blocks the commit while rows are bad', async () => {
    await upload();
    expect(screen.getByTestId('import-total-rows')).toHaveTextContent('5');
    expect(screen.getByTestId('import-total-valid')).toHaveTextContent('1');
    expect(screen.getByTestId('import-total-invalid')).toHaveTextContent('2');
    expect(screen.getByTestId('import-total-duplicates')).toHaveTextContent('1');
    expect(screen.getByTestId('import-total-skipped')).toHaveTextContent('1');
    expect(screen.getByTestId('import-total-face')).toHaveTextContent('¥50.00');
    expect(screen.getByTestId('import-total-cost')).toHaveTextContent('¥49.75');
    expect(screen.getByTestId('import-balance')).toHaveTextContent('¥20.00');
    expect(screen.getByTestId('import-balance-warning')).toHaveTextContent('预计成本 ¥49.75 超过当前余额 ¥20.00');
    expect(screen.getByTestId('import-commit')).toBeDisabled();
  });

  it('in English shows the English text of row messages', async () => {
    setUiLocale('en');
    await upload();
    expect(screen.getByTestId('import-row-3')).toHaveTextContent('column A (手机号): “1391234567” is not an 11-digit mobile number');
  });

  it('splits an already bilingual message (empty en) by locale', async () => {
    const p = makePreview();
    p.rows[1].messages[0] = { ...p.rows[1].messages[0], zh: '号码已停机 / number suspended', en: '' };
    mPreview.mockResolvedValue(p);
    await upload();
    const msg = within(screen.getByTestId('import-row-3')).getByTestId('import-row-message');
    expect(msg).toHaveTextContent(/^A 列（手机号）：号码已停机$/);
  });

  it('labels hidden sheets, warns about a file imported before, and re-previews on sheet and mapping changes', async () => {
    mPreview.mockResolvedValue(
      makePreview({ previousImports: [{ batchId: '12', fileName: 'orders.xlsx', createdAt: Date.UTC(2025, 0, 1) }] }),
    );
    const user = await upload();
    const sheet = screen.getByTestId('import-sheet');
    expect(within(sheet).getByRole('option', { name: /旧数据.*隐藏/ })).toBeInTheDocument();
    expect(screen.getByTestId('import-same-file')).toHaveTextContent('这个文件（内容完全相同）之前已经导入过');
    expect(screen.getByTestId('import-same-file')).toHaveTextContent('批次 12');

    await user.selectOptions(sheet, '旧数据');
    await waitFor(() => expect(mPreview.mock.calls.slice(-1)[0][0].sheet).toBe('旧数据'));

    // Mapping pre-filled from the detected columns.
    expect(screen.getByTestId('import-map-A')).toHaveValue('account');
    expect(screen.getByTestId('import-map-B')).toHaveValue('face');
    expect(screen.getByTestId('import-map-C')).toHaveValue('');
    await user.selectOptions(screen.getByTestId('import-map-C'), 'note');
    await waitFor(() => expect(mPreview.mock.calls.slice(-1)[0][0].mapping).toEqual({ A: 'account', B: 'face', C: 'note' }));

    await user.click(screen.getByTestId('import-allow-duplicates'));
    await waitFor(() => expect(mPreview.mock.calls.slice(-1)[0][0].allowDuplicates).toBe(true));
  });

  it('commits a clean preview after confirmation and follows the batch to the end', async () => {
    const clean = makePreview({
      rows: [makePreview().rows[0]],
      totals: { rows: 1, valid: 1, invalid: 0, duplicates: 0, skipped: 0, warnings: 0, faceTotal: 50_000, estimatedCost: 49_750 },
      balance: 1_000_000,
      balanceSufficient: true,
    });
    mPreview.mockResolvedValue(clean);
    vi.mocked(importCommit).mockResolvedValue({
      batchId: '42',
      orders: 2,
      skippedInvalid: 0,
      firstMerchantOrderId: null,
      lastMerchantOrderId: null,
    });
    vi.mocked(batchCounts).mockResolvedValue(makeCounts({ submitting: 1, accepted: 1 }));
    const user = await upload();
    expect(screen.queryByTestId('import-balance-warning')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('import-commit'));
    expect(importCommit).not.toHaveBeenCalled();
    await user.click(within(screen.getByTestId('import-confirm')).getByTestId('import-confirm-ok'));
    expect(importCommit).toHaveBeenCalledWith(expect.objectContaining({ fileName: 'orders.xlsx', provider: 'juhe' }));

    const progress = await screen.findByTestId('import-progress');
    await waitFor(() => expect(screen.getByTestId('import-progress-text')).toHaveTextContent('已完成 0 / 2'));
    expect(batchCounts).toHaveBeenCalledWith('42');

    await waitFor(() => expect(feed.count).toBe(1));
    const reads = vi.mocked(batchCounts).mock.calls.length;
    feed.push({ orders: { a: makeOrder({ id: 'a', state: 'succeeded' }) }, batches: { '42': makeCounts({ succeeded: 1, accepted: 1 }) } });
    await waitFor(() => expect(screen.getByTestId('import-progress-text')).toHaveTextContent('已完成 1 / 2（50%）'));
    expect(screen.getByTestId('import-progress-bar')).toHaveAttribute('aria-valuenow', '1');
    expect(screen.queryByTestId('import-summary')).not.toBeInTheDocument();

    feed.push({ orders: { b: makeOrder({ id: 'b', state: 'manual_review' }) }, batches: { '42': makeCounts({ succeeded: 1, manualReview: 1 }) } });
    const summary = await screen.findByTestId('import-summary');
    expect(vi.mocked(batchCounts).mock.calls.length).toBe(reads); // progress came by event
    expect(summary).toHaveTextContent('成功 1 笔，失败 0 笔，需人工处理 1 笔');
    expect(progress).toHaveAttribute('data-done', 'true');
    expect(screen.getByTestId('import-batch-link')).toHaveAttribute('href', '#orders?batch=42');
  });

  it('shows the backend error when the preview fails', async () => {
    const { BackendError } = await import('$lib/backend');
    mPreview.mockRejectedValue(new BackendError('io_error', { zh: '无法读取文件', en: 'cannot read the file' }));
    const user = userEvent.setup();
    render(ImportScreen);
    await user.upload(screen.getByTestId('import-file'), new File(['x'], 'bad.xlsx'));
    expect(await screen.findByTestId('import-error')).toHaveTextContent(/^无法读取文件$/);
  });

  it('previews orders pasted from a chat through the same import, rows numbered by line', async () => {
    const user = userEvent.setup();
    render(ImportScreen);
    await waitFor(() => expect(getSettings).toHaveBeenCalled());
    expect(screen.getByTestId('import-paste-preview')).toBeDisabled();
    const text = '13812345678 100\n张三 139-1234-5678，50元';
    mPreview.mockResolvedValue(
      makePreview({
        format: 'chat',
        layout: { headerRow: null, columns: [], unmapped: [] },
        rows: [
          { row: 1, status: 'valid', duplicate: false, messages: [], order: { kind: 'phone', account: '13812345678', face: 100_000, productId: null, details: {}, note: null, estimatedCost: 99_500, sale: null, saleSource: null, customer: null } },
          { row: 2, status: 'invalid', duplicate: false, messages: [{ level: 'error', code: 'face_not_sold', column: null, zh: '聚合数据不卖面值 25.00 元', en: 'juhe does not sell 25.00' }], order: null },
        ],
      }),
    );
    await user.type(screen.getByTestId('import-paste'), text.replace(/\n/g, '{enter}'));
    await user.click(screen.getByTestId('import-paste-preview'));
    await screen.findByTestId('import-preview-table');
    const req = mPreview.mock.calls[0][0];
    expect(req.fileName).toBe('粘贴的订单');
    expect(new TextDecoder().decode(new Uint8Array(req.bytes))).toBe(text);
    expect(req).toMatchObject({ provider: 'juhe', sheet: null, mapping: null, allowDuplicates: false });
    expect(screen.getByTestId('import-chat-note')).toBeInTheDocument();
    expect(screen.queryByTestId('import-mapping')).not.toBeInTheDocument();
    expect(screen.getByTestId('import-row-2')).toHaveTextContent('聚合数据不卖面值 25.00 元');
    expect(screen.getByTestId('import-row-1')).toHaveAttribute('data-status', 'valid');
  });
});
