/* moons 2-16-16-1 (tanh, tanh, sigmoid; mse) loop-form training kernels in
 * WebAssembly SIMD128 (f64x2): a chunk of CH samples at a time, each layer's
 * values as columns of CH samples (name[j * CH + c]), as the C loop form's
 * NAME_chunk. Every sum adds its terms in the JS/C loop form's order, so the
 * numbers are theirs to the last bit. The sigmoid output (Math.exp) is done in JS
 * between fwd() and bwd(). */
#include <wasm_simd128.h>
#define CH 16
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

#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define SPL(x) wasm_f64x2_splat(x)
#define ADD wasm_f64x2_add
#define SUB wasm_f64x2_sub
#define MUL wasm_f64x2_mul
#define DIV wasm_f64x2_div
#define SEL(m, a, b) wasm_v128_bitselect(a, b, m) /* m ? a : b */

/* The C runtime's NAME_tanh (nnsym_tanh.h), two lanes at once: same operations. */
static inline V tanh2(V x)
{
    const V z = wasm_f64x2_abs(x);
    const V limit = SPL(22.0), magic = SPL(6755399441055744.0), lo = SPL(0.625);
    const V is_large = wasm_f64x2_ge(z, lo);
    const V clamp = SEL(wasm_f64x2_lt(z, limit), SEL(wasm_f64x2_gt(z, lo), z, lo), limit);
    const V t = MUL(SPL(2.0), clamp);
    const V v = SEL(is_large, SPL(0.0), x);
    const V s = MUL(v, v);
    const V shifted = ADD(MUL(SPL(1.44269504088896340736), t), magic);
    const V n = SUB(shifted, magic);
    const V power = wasm_i64x2_shl(wasm_i64x2_add(shifted, wasm_i64x2_splat(1023)), 52);
    V u = SUB(t, MUL(n, SPL(6.93145751953125E-1)));
    u = SUB(u, MUL(n, SPL(1.42860682030941723212E-6)));
    const V uu = MUL(u, u);
    V p = SPL(1.26177193074810590878E-4);
    p = ADD(MUL(p, uu), SPL(3.02994407707441961300E-2));
    p = MUL(ADD(MUL(p, uu), SPL(9.99999999999999999910E-1)), u);
    V d = SPL(3.00198505138664455042E-6);
    d = ADD(MUL(d, uu), SPL(2.52448340349684104192E-3));
    d = ADD(MUL(d, uu), SPL(2.27265548208155028766E-1));
    d = ADD(MUL(d, uu), SPL(2.00000000000000000009E0));
    const V dmp = SUB(d, p);
    const V num_l = MUL(SPL(2.0), dmp);
    const V den_l = ADD(MUL(ADD(d, p), power), dmp);
    const V num_s = ADD(MUL(ADD(MUL(SPL(-9.64399179425052238628E-1), s), SPL(-9.92877231001918586564E1)), s),
                        SPL(-1.61468768441708447952E3));
    const V den_s = ADD(MUL(ADD(MUL(ADD(s, SPL(1.12811678491632931402E2)), s), SPL(2.23548839060100448583E3)), s),
                        SPL(4.84406305325125486048E3));
    const V q = DIV(SEL(is_large, num_l, num_s), SEL(is_large, den_l, den_s));
    V e = SUB(SPL(1.0), q);
    e = SEL(wasm_f64x2_lt(x, SPL(0.0)), wasm_f64x2_neg(e), e);
    const V small = SEL(wasm_f64x2_gt(z, SPL(0.0)), ADD(v, MUL(MUL(v, s), q)), x);
    return SEL(is_large, e, small);
}

static void tanh_layer(const double *z, double *a, int count)
{
    for (int k = 0; k < count; k += 2) ST(a + k, tanh2(LD(z + k)));
}

/* z[j * CH + c] = sum_i w[j*width + i] * in[i * CH + c] (i in order) + bias;
 * two neurons and half the chunk at a time. */
#define HALF (NV / 2)
static inline void dense(const double *w, int n_in, int width, const double *in,
                         double *out, int n_out)
{
    for (int j = 0; j < n_out; j++) {
        const double *wj = w + j * width;
        for (int h = 0; h < CH; h += CH / 2) {
            V s0 = SPL(0.0), s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < n_in; i++) {
                const V wv = SPL(wj[i]);
                const double *col = in + i * CH + h;
                s0 = ADD(s0, MUL(wv, LD(col)));
                s1 = ADD(s1, MUL(wv, LD(col + 2)));
                s2 = ADD(s2, MUL(wv, LD(col + 4)));
                s3 = ADD(s3, MUL(wv, LD(col + 6)));
            }
            const V b = SPL(wj[n_in]);
            double *o = out + j * CH + h;
            ST(o, ADD(s0, b)); ST(o + 2, ADD(s1, b)); ST(o + 4, ADD(s2, b)); ST(o + 6, ADD(s3, b));
        }
    }
}

/* d_in[i*CH + c] = (sum_j w[j*width + i] * d_out[j*CH + c]) * (1 - a*a). */
static inline void back(const double *w, int n_out, int width, const double *dout,
                        const double *a, double *din, int n_in)
{
    for (int i = 0; i < n_in; i++) {
        for (int h = 0; h < CH; h += CH / 2) {
            V s0 = SPL(0.0), s1 = s0, s2 = s0, s3 = s0;
            for (int j = 0; j < n_out; j++) {
                const V wv = SPL(w[j * width + i]);
                const double *col = dout + j * CH + h;
                s0 = ADD(s0, MUL(wv, LD(col)));
                s1 = ADD(s1, MUL(wv, LD(col + 2)));
                s2 = ADD(s2, MUL(wv, LD(col + 4)));
                s3 = ADD(s3, MUL(wv, LD(col + 6)));
            }
            const double *ac = a + i * CH + h;
            double *o = din + i * CH + h;
            const V one = SPL(1.0);
            V a0 = LD(ac), a1 = LD(ac + 2), a2 = LD(ac + 4), a3 = LD(ac + 6);
            ST(o, MUL(s0, SUB(one, MUL(a0, a0))));
            ST(o + 2, MUL(s1, SUB(one, MUL(a1, a1))));
            ST(o + 4, MUL(s2, SUB(one, MUL(a2, a2))));
            ST(o + 6, MUL(s3, SUB(one, MUL(a3, a3))));
        }
    }
}

/* grad row j (n_in weights, bias) += d[j*CH + c] * rows[c*n_in + i], c in order. */
static inline void outer16(double *g, const double *rows, const double *d, int n_out, int count)
{
    const int width = 17;
    for (int j = 0; j < n_out; j++) {
        double *row = g + j * width;
        const double *dj = d + j * CH;
        for (int i = 0; i < 16; i += 8) {
            V g0 = LD(row + i), g1 = LD(row + i + 2), g2 = LD(row + i + 4), g3 = LD(row + i + 6);
            for (int c = 0; c < count; c++) {
                const V dv = SPL(dj[c]);
                const double *in = rows + c * 16 + i;
                g0 = ADD(g0, MUL(dv, LD(in)));
                g1 = ADD(g1, MUL(dv, LD(in + 2)));
                g2 = ADD(g2, MUL(dv, LD(in + 4)));
                g3 = ADD(g3, MUL(dv, LD(in + 6)));
            }
            ST(row + i, g0); ST(row + i + 2, g1); ST(row + i + 4, g2); ST(row + i + 6, g3);
        }
        double b = row[16];
        for (int c = 0; c < count; c++) b += dj[c];
        row[16] = b;
    }
}

/* The first layer (2 inputs): two rows' [w0 w1] as a vector, bias alone. */
static inline void outer2(double *g, const double *rows, const double *d, int count)
{
    for (int j = 0; j < 16; j++) {
        double *row = g + j * 3;
        const double *dj = d + j * CH;
        V gv = LD(row);
        double b = row[2];
        for (int c = 0; c < count; c++) {
            gv = ADD(gv, MUL(SPL(dj[c]), LD(rows + c * 2)));
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
        x0c[c] = ok ? x[0] : 0;
        x0c[CH + c] = ok ? x[1] : 0;
        rows1[c * 2] = x0c[c];
        rows1[c * 2 + 1] = x0c[CH + c];
    }
    dense(params + 0, 2, 3, x0c, z1c, 16);
    tanh_layer(z1c, a1c, 16 * CH);
    dense(params + 48, 16, 17, a1c, z1c /* z2 */, 16);
    tanh_layer(z1c, a2c, 16 * CH);
    /* z3: one neuron, the whole chunk */
    {
        const double *w = params + 320;
        V s[NV];
        for (int k = 0; k < NV; k++) s[k] = SPL(0.0);
        for (int i = 0; i < 16; i++) {
            const V wv = SPL(w[i]);
            for (int k = 0; k < NV; k++) s[k] = ADD(s[k], MUL(wv, LD(a2c + i * CH + 2 * k)));
        }
        for (int k = 0; k < NV; k++) ST(z3c + 2 * k, ADD(s[k], SPL(w[16])));
    }
}

/* After JS has put the chunk's output deltas in d3c (0 past count). */
void bwd(int count)
{
    /* d2 from d3 (one output neuron) */
    {
        const double *w = params + 320;
        for (int i = 0; i < 16; i++) {
            const V wv = SPL(w[i]);
            for (int k = 0; k < NV; k++) {
                const V s = ADD(SPL(0.0), MUL(wv, LD(d3c + 2 * k)));
                const V a = LD(a2c + i * CH + 2 * k);
                ST(d2c + i * CH + 2 * k, MUL(s, SUB(SPL(1.0), MUL(a, a))));
            }
        }
    }
    back(params + 48, 16, 17, d2c, a1c, d1c, 16);
    for (int c = 0; c < count; c++)
        for (int i = 0; i < 16; i++) {
            rows2[c * 16 + i] = a1c[i * CH + c];
            rows3[c * 16 + i] = a2c[i * CH + c];
        }
    outer2(grad + 0, rows1, d1c, count);
    outer16(grad + 48, rows2, d2c, 16, count);
    outer16(grad + 320, rows3, d3c, 1, count);
}

void zero_grad(void)
{
    for (int i = 0; i < 336; i += 2) ST(grad + i, SPL(0.0));
    grad[336] = 0;
}

/* mean and sgd: params[i] = params[i] - lr * (grad[i] / n). */
void sgd(double lr, double n)
{
    const V l = SPL(lr), m = SPL(n);
    for (int i = 0; i < 336; i += 2) ST(params + i, SUB(LD(params + i), MUL(l, DIV(LD(grad + i), m))));
    params[336] = params[336] - lr * (grad[336] / n);
}

