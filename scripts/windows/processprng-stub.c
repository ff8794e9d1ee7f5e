/*
 * bcryptprimitives.dll for wine 8 only — never shipped, never used on Windows.
 *
 * Rust's standard library (1.78 and later) gets its randomness from ProcessPrng in
 * bcryptprimitives.dll, which Windows 10 and 11 export; wine 8.0 (Debian 12) does not, so the
 * cross-built topup-desk.exe cannot start under it. scripts/windows-test.sh builds this stub with
 * mingw, puts it next to the exe and tells wine to prefer it (WINEDLLOVERRIDES=bcryptprimitives=n,b).
 * It forwards to BCryptGenRandom with the system RNG, which wine 8 has.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
