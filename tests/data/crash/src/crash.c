/* A tiny freestanding program (no CRT) for the crash walker's x86 and ARM64
 * tests: start -> outer -> middle -> leaf, and leaf writes through a null
 * pointer. Each function keeps locals on the stack and uses callee-saved
 * registers, so its prolog saves registers and allocates a frame; built
 * with the frame pointer omitted (x86), only the unwind info says where a
 * caller's return address is. Built by build.sh; see ../README.md. */

/* Null at run time; volatile so the compiler cannot prove the fault. */
int *volatile target;
/* Opaque inputs, so nothing folds to a constant. */
volatile int seed = 3;

__declspec(noinline) int leaf(int a, int b) {
    volatile int scratch[4];
    for (int i = 0; i < 4; i++)
        scratch[i] = a * i + b;
    *target = scratch[1] + scratch[3]; /* the fault: a write to address 0 */
    return scratch[0] + scratch[2];
}

__declspec(noinline) int middle(int n) {
    volatile int local[6];
    int x = seed, y = seed * 7, z = seed + n;
    for (int i = 0; i < 6; i++)
        local[i] = x * i + y;
    int r = leaf(x + local[2], y + local[5]);
    return r + x * y * z + local[0];
}

__declspec(noinline) int outer(int n) {
    volatile int local[10];
    int p = seed, q = seed * 5, s = n * 3;
    for (int i = 0; i < 10; i++)
        local[i] = p + q * i;
    int r = middle(n + local[4]);
    return r + p * q * s + local[9];
}

int start(void) {
    return outer(seed);
}
