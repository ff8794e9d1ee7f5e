// Reading a file the user picked, for commands that take a file's bytes (import, a statement).

/** The bytes of `f` as numbers (how they cross to the backend). */
export async function readFileBytes(f: File): Promise<number[]> {
  const buf =
    typeof f.arrayBuffer === 'function'
      ? await f.arrayBuffer()
      : await new Promise<ArrayBuffer>((resolve, reject) => {
          const r = new FileReader();
          r.onload = () => resolve(r.result as ArrayBuffer);
          r.onerror = () => reject(r.error);
          r.readAsArrayBuffer(f);
        });
  return Array.from(new Uint8Array(buf));
}
