/* moons 2-16-16-1 (tanh, tanh, sigmoid; mse) loop-form training kernels in
 * WebAssembly SIMD128 (f64x2), second version: a chunk of CH samples at a time,
 * each layer's values as columns of CH samples (name[j * CH + c]), as the C loop
 * form's NAME_chunk. Every sum adds its terms in the JS/C loop form's order, so
 * the numbers are theirs to the last bit. The sigmoid output (Math.exp) is done
 * in JS between fwd() and bwd().
 * (kernel3: tanh's constants loaded from memory (KCONST); the dot products' loops over inputs left rolled, so that clang
 * does not hoist 128 loads for V8 to spill.)
 * TANH_BRANCH: 0 branch-free tanh; 1 a branch per pair on all-large/all-small. */
#include <wasm_simd128.h>
#ifndef CH
#define CH 16
#endif
#ifndef FUSED
#define FUSED 0
#endif
#ifndef BIASVEC
#define BIASVEC 1
#endif
#ifndef SHUF
#define SHUF 1
#endif
#ifndef KCONST
#define KCONST 1
#endif
#ifndef TANH_BRANCH
#define TANH_BRANCH 1
#endif
#define NV (CH / 2)
#define MAXS 4096
typedef v128_t V;

double params[337] __attribute__((aligned(16)));
double grad[337] __attribute__((aligned(16)));
double xs[MAXS * 2] __attribute__((aligned(16)));
static double x0c[2 * CH] __attribute__((aligned(16)));
static double z1c[16 * CH] __attribute__((aligned(16)));
static double a1c[16 * CH] __attribute__((aligned(16)));
static double d1c[16 * CH] __attribute__((aligned(16)));
static double z2c[16 * CH] __attribute__((aligned(16)));
static double a2c[16 * CH] __attribute__((aligned(16)));
static double d2c[16 * CH] __attribute__((aligned(16)));
double z3c[CH] __attribute__((aligned(16)));
double d3c[CH] __attribute__((aligned(16)));
static double rows1[CH * 2] __attribute__((aligned(16)));
static double rows2[CH * 16] __attribute__((aligned(16)));
static double rows3[CH * 16] __attribute__((aligned(16)));

double *p_params(void) { return params; }
double *p_grad(void) { return grad; }
double *p_xs(void) { return xs; }
double *p_z3c(void) { return z3c; }
double *p_d3c(void) { return d3c; }
double *p_z1c(void) { return z1c; }

#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define SPL(x) wasm_f64x2_splat(x)
#define LSPL(p) wasm_v128_load64_splat(p)
#define ADD wasm_f64x2_add
#define SUB wasm_f64x2_sub
#define MUL wasm_f64x2_mul
#define DIV wasm_f64x2_div
#define SEL(m, a, b) wasm_v128_bitselect(a, b, m) /* m ? a : b */
#define UNROLL _Pragma("clang loop unroll(full)")

/* The C runtime's NAME_tanh (nnsym_tanh.h), two lanes at once: the same
 * operations on every lane, so the same bits. Its choices as cheaper
 * instructions where they give the same result for the lane that is kept:
 * the clamp as pmax/pmin (NaN lanes take the small half, whose result is x);
 * the sign of the result OR-ed in from x (the large half's 1 - q is positive;
 * the small half's result already has x's sign, and at -0 is +0 unfixed). */
/* tanh2's constants in memory, not as v128.const: V8 builds a v128 constant
 * with three instructions at each use inside a branch (a 64-bit immediate,
 * across, duplicated), where a load64_splat is one. Not const, so that clang
 * keeps the loads. */
long long K1023[1] = {1023};
double KTAB[] = {0.625, -9.64399179425052238628E-1, -9.92877231001918586564E1, -1.61468768441708447952E3, 1.12811678491632931402E2, 2.23548839060100448583E3, 4.84406305325125486048E3, 0.0, 2.0, 22.0, 6755399441055744.0, 1.44269504088896340736, 6.93145751953125E-1, 1.42860682030941723212E-6, 1.26177193074810590878E-4, 3.02994407707441961300E-2, 9.99999999999999999910E-1, 3.00198505138664455042E-6, 2.52448340349684104192E-3, 2.27265548208155028766E-1, 2.00000000000000000009E0, 1.0};
#if KCONST
#define KC(k) LSPL(KTAB + (k))
#else
#define KC(k) SPL(KTAB_##k)
#endif
#define KTAB_0 0.625
#define KTAB_1 -9.64399179425052238628E-1
#define KTAB_2 -9.92877231001918586564E1
#define KTAB_3 -1.61468768441708447952E3
#define KTAB_4 1.12811678491632931402E2
#define KTAB_5 2.23548839060100448583E3
#define KTAB_6 4.84406305325125486048E3
#define KTAB_7 0.0
#define KTAB_8 2.0
#define KTAB_9 22.0
#define KTAB_10 6755399441055744.0
#define KTAB_11 1.44269504088896340736
#define KTAB_12 6.93145751953125E-1
#define KTAB_13 1.42860682030941723212E-6
#define KTAB_14 1.26177193074810590878E-4
#define KTAB_15 3.02994407707441961300E-2
#define KTAB_16 9.99999999999999999910E-1
#define KTAB_17 3.00198505138664455042E-6
#define KTAB_18 2.52448340349684104192E-3
#define KTAB_19 2.27265548208155028766E-1
#define KTAB_20 2.00000000000000000009E0
#define KTAB_21 1.0
static inline V tanh2(V x)
{
    const V sign = wasm_i64x2_splat((long long)0x8000000000000000ULL);
    const V z = wasm_v128_andnot(x, sign);
    const V lo = KC(0);
    const V is_large = wasm_f64x2_ge(z, lo);
    V result;
#if TANH_BRANCH
    if (!wasm_v128_any_true(is_large)) {
        /* both small */
        const V s = MUL(x, x);
        const V num = ADD(MUL(ADD(MUL(KC(1), s), KC(2)), s),
                          KC(3));
        const V den = ADD(MUL(ADD(MUL(ADD(s, KC(4)), s), KC(5)), s),
                          KC(6));
        const V q = DIV(num, den);
        const V small = ADD(x, MUL(MUL(x, s), q));
        /* x itself at +-0 and NaN, as the C: z > 0 is false there */
        return wasm_v128_or(SEL(wasm_f64x2_gt(z, SPL(0.0)), small, x), wasm_v128_and(x, sign));
    }
#endif
    const V clamped = wasm_f64x2_pmin(KC(9), wasm_f64x2_pmax(lo, z));
    const V t = ADD(clamped, clamped); /* 2 * clamped, exactly */
    const V magic = KC(10);
    const V shifted = ADD(MUL(KC(11), t), magic);
    const V n = SUB(shifted, magic);
    const V power = wasm_i64x2_shl(wasm_i64x2_add(shifted, LSPL((const double *)K1023)), 52);
    V u = SUB(t, MUL(n, KC(12)));
    u = SUB(u, MUL(n, KC(13)));
    const V uu = MUL(u, u);
    V p = KC(14);
    p = ADD(MUL(p, uu), KC(15));
    p = MUL(ADD(MUL(p, uu), KC(16)), u);
    V d = KC(17);
    d = ADD(MUL(d, uu), KC(18));
    d = ADD(MUL(d, uu), KC(19));
    d = ADD(MUL(d, uu), KC(20));
    const V dmp = SUB(d, p);
    const V num_l = ADD(dmp, dmp); /* 2 * dmp, exactly */
    const V den_l = ADD(MUL(ADD(d, p), power), dmp);
#if TANH_BRANCH
    if (wasm_i64x2_all_true(is_large)) {
        const V e = SUB(KC(21), DIV(num_l, den_l));
        return wasm_v128_or(e, wasm_v128_and(x, sign));
    }
#endif
    {
        const V v = wasm_v128_andnot(x, is_large);
        const V s = MUL(v, v);
        const V num_s = ADD(MUL(ADD(MUL(KC(1), s), KC(2)), s),
                            KC(3));
        const V den_s = ADD(MUL(ADD(MUL(ADD(s, KC(4)), s), KC(5)), s),
                            KC(6));
        const V q = DIV(SEL(is_large, num_l, num_s), SEL(is_large, den_l, den_s));
        const V e = SUB(KC(21), q);
        const V small = SEL(wasm_f64x2_gt(z, SPL(0.0)), ADD(v, MUL(MUL(v, s), q)), x);
        result = wasm_v128_or(SEL(is_large, e, small), wasm_v128_and(x, sign));
    }
    return result;
}

/* out[j*CH + c] = tanh(sum_i w[j*width + i] * in[i*CH + c] (i in order) + bias),
 * two neurons by 8 samples at a time (8 sums). */
static inline void dense_tanh(const double *w, int n_in, const double *in, double *out, int n_out, int act)
{
    const int width = n_in + 1;
    for (int j = 0; j < n_out; j += 2) {
        const double *w0 = w + j * width, *w1 = w0 + width;
        UNROLL for (int h = 0; h < CH; h += 8) {
            V s0 = SPL(0.0), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
            for (int i = 0; i < n_in; i++) {
                const V wa = LSPL(w0 + i), wb = LSPL(w1 + i);
                const double *col = in + i * CH + h;
                const V c0 = LD(col), c1 = LD(col + 2), c2 = LD(col + 4), c3 = LD(col + 6);
                s0 = ADD(s0, MUL(wa, c0)); s1 = ADD(s1, MUL(wa, c1));
                s2 = ADD(s2, MUL(wa, c2)); s3 = ADD(s3, MUL(wa, c3));
                t0 = ADD(t0, MUL(wb, c0)); t1 = ADD(t1, MUL(wb, c1));
                t2 = ADD(t2, MUL(wb, c2)); t3 = ADD(t3, MUL(wb, c3));
            }
            const V ba = LSPL(w0 + n_in), bb = LSPL(w1 + n_in);
            double *o0 = out + j * CH + h, *o1 = o0 + CH;
            s0 = ADD(s0, ba); s1 = ADD(s1, ba); s2 = ADD(s2, ba); s3 = ADD(s3, ba);
            t0 = ADD(t0, bb); t1 = ADD(t1, bb); t2 = ADD(t2, bb); t3 = ADD(t3, bb);
            if (act) {
                s0 = tanh2(s0); s1 = tanh2(s1); s2 = tanh2(s2); s3 = tanh2(s3);
                t0 = tanh2(t0); t1 = tanh2(t1); t2 = tanh2(t2); t3 = tanh2(t3);
            }
            ST(o0, s0); ST(o0 + 2, s1); ST(o0 + 4, s2); ST(o0 + 6, s3);
            ST(o1, t0); ST(o1 + 2, t1); ST(o1 + 4, t2); ST(o1 + 6, t3);
        }
    }
}

#ifndef FISSION
#define FISSION 0
#endif
#ifndef SORTED
#define SORTED 0
#endif
#if SORTED
/* tanh over a layer with the pairs sorted first, without a branch, into those
 * whose two values are both at least 0.625 (the large half alone), both below
 * (the small half alone) and mixed (both halves and a choice per lane): each
 * loop then runs the one path with no branch to mispredict. The same
 * operations per lane as tanh2, so the same bits. */
static int list_l[16 * CH / 2], list_s[16 * CH / 2], list_m[16 * CH / 2];
static void tanh_layer(const double *zin, double *a, int count)
{
    const V sign = wasm_i64x2_splat((long long)0x8000000000000000ULL);
    const V lo = KC(0);
    int nl = 0, ns = 0, nm = 0;
    for (int k = 0; k < count / 2; k++) {
        const V x = LD(zin + 2 * k);
        const int m = wasm_i64x2_bitmask(wasm_f64x2_ge(wasm_v128_andnot(x, sign), lo));
        list_l[nl] = k; list_s[ns] = k; list_m[nm] = k;
        nl += m == 3; ns += m == 0; nm += (m == 1) | (m == 2);
    }
    const V k22 = KC(9), magic = KC(10), l2e = KC(11), ln2a = KC(12), ln2b = KC(13);
    const V p0 = KC(14), p1 = KC(15), p2 = KC(16), d0 = KC(17), d1 = KC(18), d2 = KC(19), d3 = KC(20), one = KC(21);
    const V bias = LSPL((const double *)K1023);
#ifndef ILV
#define ILV 1
#endif
    /* ILV pairs at a time, their operations interleaved, so that the
     * processor's scheduler sees more than one chain of dependent operations. */
    int i = 0;
    for (; i + ILV <= nl; i += ILV) {
        V x[ILV], t[ILV], shifted[ILV], n[ILV], u[ILV], uu[ILV], p[ILV], d[ILV], dmp[ILV], power[ILV];
#define R for (int r = 0; r < ILV; r++)
        R x[r] = LD(zin + 2 * list_l[i + r]);
        R { const V c = wasm_f64x2_pmin(k22, wasm_f64x2_pmax(lo, wasm_v128_andnot(x[r], sign))); t[r] = ADD(c, c); }
        R shifted[r] = ADD(MUL(l2e, t[r]), magic);
        R n[r] = SUB(shifted[r], magic);
        R power[r] = wasm_i64x2_shl(wasm_i64x2_add(shifted[r], bias), 52);
        R u[r] = SUB(t[r], MUL(n[r], ln2a));
        R u[r] = SUB(u[r], MUL(n[r], ln2b));
        R uu[r] = MUL(u[r], u[r]);
        R p[r] = ADD(MUL(p0, uu[r]), p1);
        R d[r] = ADD(MUL(d0, uu[r]), d1);
        R p[r] = MUL(ADD(MUL(p[r], uu[r]), p2), u[r]);
        R d[r] = ADD(MUL(d[r], uu[r]), d2);
        R d[r] = ADD(MUL(d[r], uu[r]), d3);
        R dmp[r] = SUB(d[r], p[r]);
        R {
            const V e = SUB(one, DIV(ADD(dmp[r], dmp[r]), ADD(MUL(ADD(d[r], p[r]), power[r]), dmp[r])));
            ST(a + 2 * list_l[i + r], wasm_v128_or(e, wasm_v128_and(x[r], sign)));
        }
#undef R
    }
    for (; i < nl; i++) {
        const int k = list_l[i];
        ST(a + 2 * k, tanh2(LD(zin + 2 * k)));
    }
    const V s1 = KC(1), s2 = KC(2), s3 = KC(3), s4 = KC(4), s5 = KC(5), s6 = KC(6), zero = SPL(0.0);
    for (int i = 0; i < ns; i++) {
        const int k = list_s[i];
        const V x = LD(zin + 2 * k);
        const V s = MUL(x, x);
        const V num = ADD(MUL(ADD(MUL(s1, s), s2), s), s3);
        const V den = ADD(MUL(ADD(MUL(ADD(s, s4), s), s5), s), s6);
        const V small = ADD(x, MUL(MUL(x, s), DIV(num, den)));
        /* x itself at +-0 and NaN (z > 0 false there), as the C */
        ST(a + 2 * k, SEL(wasm_f64x2_gt(wasm_v128_andnot(x, sign), zero), small, x));
    }
    for (int i = 0; i < nm; i++) {
        const int k = list_m[i];
        ST(a + 2 * k, tanh2(LD(zin + 2 * k)));
    }
}
#elif FISSION
/* tanh2's operations in three passes over the layer, each with a short chain
 * of dependent operations, so that the processor overlaps more pairs (the one
 * pass version is bound by its chain's latency). The same operations. */
static V fu[16 * CH / 2], fuu[16 * CH / 2], fpow[16 * CH / 2], fnl[16 * CH / 2], fdl[16 * CH / 2];
static void tanh_layer(const double *zin, double *a, int count)
{
    const V lo = KC(0);
    for (int k = 0; k < count / 2; k++) {
        const V x = LD(zin + 2 * k);
        const V z = wasm_v128_andnot(x, wasm_i64x2_splat((long long)0x8000000000000000ULL));
        const V clamped = wasm_f64x2_pmin(KC(9), wasm_f64x2_pmax(lo, z));
        const V t = ADD(clamped, clamped);
        const V magic = KC(10);
        const V shifted = ADD(MUL(KC(11), t), magic);
        const V n = SUB(shifted, magic);
        fpow[k] = wasm_i64x2_shl(wasm_i64x2_add(shifted, LSPL((const double *)K1023)), 52);
        V u = SUB(t, MUL(n, KC(12)));
        u = SUB(u, MUL(n, KC(13)));
        fu[k] = u;
        fuu[k] = MUL(u, u);
    }
    for (int k = 0; k < count / 2; k++) {
        const V u = fu[k], uu = fuu[k];
        V p = KC(14);
        p = ADD(MUL(p, uu), KC(15));
        p = MUL(ADD(MUL(p, uu), KC(16)), u);
        V d = KC(17);
        d = ADD(MUL(d, uu), KC(18));
        d = ADD(MUL(d, uu), KC(19));
        d = ADD(MUL(d, uu), KC(20));
        const V dmp = SUB(d, p);
        fnl[k] = ADD(dmp, dmp);
        fdl[k] = ADD(MUL(ADD(d, p), fpow[k]), dmp);
    }
    const V sign = wasm_i64x2_splat((long long)0x8000000000000000ULL);
    for (int k = 0; k < count / 2; k++) {
        const V x = LD(zin + 2 * k);
        const V z = wasm_v128_andnot(x, sign);
        const V is_large = wasm_f64x2_ge(z, lo);
        const V v = wasm_v128_andnot(x, is_large);
        const V s = MUL(v, v);
        const V num_s = ADD(MUL(ADD(MUL(KC(1), s), KC(2)), s), KC(3));
        const V den_s = ADD(MUL(ADD(MUL(ADD(s, KC(4)), s), KC(5)), s), KC(6));
        const V q = DIV(SEL(is_large, fnl[k], num_s), SEL(is_large, fdl[k], den_s));
        const V e = SUB(KC(21), q);
        const V small = SEL(wasm_f64x2_gt(z, SPL(0.0)), ADD(v, MUL(MUL(v, s), q)), x);
        ST(a + 2 * k, wasm_v128_or(SEL(is_large, e, small), wasm_v128_and(x, sign)));
    }
}
#else
static void tanh_layer(const double *z, double *a, int count)
{
    for (int k = 0; k < count; k += 2) ST(a + k, tanh2(LD(z + k)));
}
#endif

/* d_in[i*CH + c] = (sum_j w[j*width + i] * d_out[j*CH + c]) * (1 - a*a):
 * two inputs by 8 samples at a time. */
static inline void back(const double *w, int n_out, int width, const double *dout,
                        const double *a, double *din, int n_in)
{
    const V one = SPL(1.0);
    for (int i = 0; i < n_in; i += 2) {
        UNROLL for (int h = 0; h < CH; h += 8) {
            V s0 = SPL(0.0), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
            for (int j = 0; j < n_out; j++) {
                const V wa = LSPL(w + j * width + i), wb = LSPL(w + j * width + i + 1);
                const double *col = dout + j * CH + h;
                const V c0 = LD(col), c1 = LD(col + 2), c2 = LD(col + 4), c3 = LD(col + 6);
                s0 = ADD(s0, MUL(wa, c0)); s1 = ADD(s1, MUL(wa, c1));
                s2 = ADD(s2, MUL(wa, c2)); s3 = ADD(s3, MUL(wa, c3));
                t0 = ADD(t0, MUL(wb, c0)); t1 = ADD(t1, MUL(wb, c1));
                t2 = ADD(t2, MUL(wb, c2)); t3 = ADD(t3, MUL(wb, c3));
            }
            const double *ac = a + i * CH + h;
            double *o = din + i * CH + h;
#define DOUT(off, sv) { const V av = LD(ac + (off)); ST(o + (off), MUL(sv, SUB(one, MUL(av, av)))); }
            DOUT(0, s0) DOUT(2, s1) DOUT(4, s2) DOUT(6, s3)
            DOUT(CH, t0) DOUT(CH + 2, t1) DOUT(CH + 4, t2) DOUT(CH + 6, t3)
#undef DOUT
        }
    }
}

/* grad row j (16 weights, bias) += d[j*CH + c] * rows[c*16 + i], c in order:
 * two rows by 8 columns at a time. */
static inline void outer16(double *g, const double *rows, const double *d, int n_out, int count)
{
    const int width = 17;
    int j = 0;
    for (; j + 2 <= n_out; j += 2) {
        double *r0 = g + j * width, *r1 = r0 + width;
        const double *d0 = d + j * CH, *d1 = d0 + CH;
#if BIASVEC
        /* the two rows' biases side by side, (b_j, b_j+1), in the first block's loop */
        V bias = wasm_f64x2_make(r0[16], r1[16]);
#endif
        UNROLL for (int i = 0; i < 16; i += 8) {
            V g0 = LD(r0 + i), g1 = LD(r0 + i + 2), g2 = LD(r0 + i + 4), g3 = LD(r0 + i + 6);
            V h0 = LD(r1 + i), h1 = LD(r1 + i + 2), h2 = LD(r1 + i + 4), h3 = LD(r1 + i + 6);
            for (int c = 0; c < count; c++) {
                const V da = LSPL(d0 + c), db = LSPL(d1 + c);
#if BIASVEC
                if (i == 0) bias = ADD(bias, wasm_i64x2_shuffle(da, db, 0, 2));
#endif
                const double *in = rows + c * 16 + i;
                const V c0 = LD(in), c1 = LD(in + 2), c2 = LD(in + 4), c3 = LD(in + 6);
                g0 = ADD(g0, MUL(da, c0)); g1 = ADD(g1, MUL(da, c1));
                g2 = ADD(g2, MUL(da, c2)); g3 = ADD(g3, MUL(da, c3));
                h0 = ADD(h0, MUL(db, c0)); h1 = ADD(h1, MUL(db, c1));
                h2 = ADD(h2, MUL(db, c2)); h3 = ADD(h3, MUL(db, c3));
            }
            ST(r0 + i, g0); ST(r0 + i + 2, g1); ST(r0 + i + 4, g2); ST(r0 + i + 6, g3);
            ST(r1 + i, h0); ST(r1 + i + 2, h1); ST(r1 + i + 4, h2); ST(r1 + i + 6, h3);
        }
#if BIASVEC
        r0[16] = wasm_f64x2_extract_lane(bias, 0);
        r1[16] = wasm_f64x2_extract_lane(bias, 1);
#endif
    }
    for (; j < n_out; j++) {
        double *r0 = g + j * width;
        const double *d0 = d + j * CH;
        V g0 = LD(r0), g1 = LD(r0 + 2), g2 = LD(r0 + 4), g3 = LD(r0 + 6);
        V g4 = LD(r0 + 8), g5 = LD(r0 + 10), g6 = LD(r0 + 12), g7 = LD(r0 + 14);
        for (int c = 0; c < count; c++) {
            const V da = LSPL(d0 + c);
            const double *in = rows + c * 16;
            g0 = ADD(g0, MUL(da, LD(in))); g1 = ADD(g1, MUL(da, LD(in + 2)));
            g2 = ADD(g2, MUL(da, LD(in + 4))); g3 = ADD(g3, MUL(da, LD(in + 6)));
            g4 = ADD(g4, MUL(da, LD(in + 8))); g5 = ADD(g5, MUL(da, LD(in + 10)));
            g6 = ADD(g6, MUL(da, LD(in + 12))); g7 = ADD(g7, MUL(da, LD(in + 14)));
        }
        ST(r0, g0); ST(r0 + 2, g1); ST(r0 + 4, g2); ST(r0 + 6, g3);
        ST(r0 + 8, g4); ST(r0 + 10, g5); ST(r0 + 12, g6); ST(r0 + 14, g7);
    }
    /* the biases left (all of them without BIASVEC) */
#if BIASVEC
    for (j = n_out - n_out % 2; j < n_out; j++) {
#else
    for (j = 0; j < n_out; j++) {
#endif
        double b = g[j * width + 16];
        const double *dj = d + j * CH;
        for (int c = 0; c < count; c++) b += dj[c];
        g[j * width + 16] = b;
    }
}

/* The first layer (2 inputs): each row's [w0 w1] as a vector, its bias alone. */
static inline void outer2(double *g, const double *rows, const double *d, int count)
{
    for (int j = 0; j < 16; j++) {
        double *row = g + j * 3;
        const double *dj = d + j * CH;
        V gv = LD(row);
        double b = row[2];
        for (int c = 0; c < count; c++) {
            gv = ADD(gv, MUL(LSPL(dj + c), LD(rows + c * 2)));
            b += dj[c];
        }
        ST(row, gv);
        row[2] = b;
    }
}

/* The chunk of samples start .. start + count - 1 up to z3c (count <= CH). */
void fwd(int start, int count)
{
    for (int c = 0; c < CH; c++) {
        const int ok = c < count;
        const double *x = xs + (start + (ok ? c : 0)) * 2;
        const double x0 = ok ? x[0] : 0, x1 = ok ? x[1] : 0;
        x0c[c] = x0;
        x0c[CH + c] = x1;
        rows1[c * 2] = x0;
        rows1[c * 2 + 1] = x1;
    }
#if FUSED
    dense_tanh(params + 0, 2, x0c, a1c, 16, 1);
    dense_tanh(params + 48, 16, a1c, a2c, 16, 1);
#else
    dense_tanh(params + 0, 2, x0c, z1c, 16, 0);
    tanh_layer(z1c, a1c, 16 * CH);
    dense_tanh(params + 48, 16, a1c, z2c, 16, 0);
    tanh_layer(z2c, a2c, 16 * CH);
#endif
    /* z3: one neuron, the whole chunk */
    {
        const double *w = params + 320;
        V s[NV];
        UNROLL for (int k = 0; k < NV; k++) s[k] = SPL(0.0);
        UNROLL for (int i = 0; i < 16; i++) {
            const V wv = LSPL(w + i);
            UNROLL for (int k = 0; k < NV; k++) s[k] = ADD(s[k], MUL(wv, LD(a2c + i * CH + 2 * k)));
        }
        const V b = LSPL(w + 16);
        UNROLL for (int k = 0; k < NV; k++) ST(z3c + 2 * k, ADD(s[k], b));
    }
}

/* After JS has put the chunk's output deltas in d3c (0 past count). */
void bwd(int count)
{
    /* d2 from d3 (one output neuron): 0 + w * d3, times 1 - a*a */
    {
        const double *w = params + 320;
        const V one = SPL(1.0);
        UNROLL for (int i = 0; i < 16; i++) {
            const V wv = LSPL(w + i);
            UNROLL for (int k = 0; k < NV; k++) {
                const V s = ADD(SPL(0.0), MUL(wv, LD(d3c + 2 * k)));
                const V a = LD(a2c + i * CH + 2 * k);
                ST(d2c + i * CH + 2 * k, MUL(s, SUB(one, MUL(a, a))));
            }
        }
    }
    back(params + 48, 16, 17, d2c, a1c, d1c, 16);
#if SHUF
    /* the layers' inputs sample by sample, by 2 x 2 blocks (two shuffles) */
    for (int c = 0; c < CH; c += 2)
        UNROLL for (int i = 0; i < 16; i += 2) {
            const V a0 = LD(a1c + i * CH + c), a1 = LD(a1c + (i + 1) * CH + c);
            ST(rows2 + c * 16 + i, wasm_i64x2_shuffle(a0, a1, 0, 2));
            ST(rows2 + (c + 1) * 16 + i, wasm_i64x2_shuffle(a0, a1, 1, 3));
            const V b0 = LD(a2c + i * CH + c), b1 = LD(a2c + (i + 1) * CH + c);
            ST(rows3 + c * 16 + i, wasm_i64x2_shuffle(b0, b1, 0, 2));
            ST(rows3 + (c + 1) * 16 + i, wasm_i64x2_shuffle(b0, b1, 1, 3));
        }
#else
    for (int c = 0; c < count; c++)
        UNROLL for (int i = 0; i < 16; i++) {
            rows2[c * 16 + i] = a1c[i * CH + c];
            rows3[c * 16 + i] = a2c[i * CH + c];
        }
#endif
    outer2(grad + 0, rows1, d1c, count);
    outer16(grad + 48, rows2, d2c, 16, count);
    outer16(grad + 320, rows3, d3c, 1, count);
}

/* mean and sgd: params[i] = params[i] - lr * (grad[i] / n). */
void sgd(double lr, double n)
{
    const V l = SPL(lr), m = SPL(n);
    for (int i = 0; i < 336; i += 2) ST(params + i, SUB(LD(params + i), MUL(l, DIV(LD(grad + i), m))));
    params[336] = params[336] - lr * (grad[336] / n);
}

#ifdef WHOLE_EPOCH
#include "exp_epoch.inc"
#endif

/* For timing the parts, on the buffers a real fwd() and bwd() left. */
void t_dense1(void) { dense_tanh(params + 0, 2, x0c, z1c, 16, 0); }
void t_tanh1(void) { tanh_layer(z1c, a1c, 16 * CH); }
void t_dense2(void) { dense_tanh(params + 48, 16, a1c, z2c, 16, 0); }
void t_tanh2(void) { tanh_layer(z2c, a2c, 16 * CH); }
void t_back(void) { back(params + 48, 16, 17, d2c, a1c, d1c, 16); }
void t_outer2(void) { outer2(grad + 0, rows1, d1c, CH); }
void t_outer16(void) { outer16(grad + 48, rows2, d2c, 16, CH); }
void t_outer1(void) { outer16(grad + 320, rows3, d3c, 1, CH); }
