/* Wine 8 (Debian 12) has no bcryptprimitives.dll, whose ProcessPrng Rust's standard library
 * takes its randomness from on Windows 10 and later: without it no Rust program starts under
 * Wine 8. This stand-in, put into the test prefix's system32 by .ci/wine-prefix, asks bcrypt
 * (which Wine has) for the same system randomness. Real Windows has the DLL; nothing of this
 * ships. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) {
            return FALSE;
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
