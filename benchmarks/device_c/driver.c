/* Trains one network on a chip (or on the host) and prints the result.
 *
 * case.h (written by benchmarks/devices.py) includes the generated trainer and
 * defines NET(name) (its NAME_ prefix), NET_UPPER(name), the samples XS and
 * YS, N_SAMPLES, the starting parameters START, the optimizer, lr, epochs and
 * batch size. The run goes through NAME_trainer_init and NAME_train_epochs,
 * CHUNK_EPOCHS at a time with no history, as a device would. Output, one item a
 * line: the result code, the epochs run, the objective and every parameter as
 * the hexadecimal words of its bits (exact, and no printf of floats needed);
 * on the AVR also the cycles training took (Timer1, counted by the simulated
 * chip) and the most stack it used (the stack painted before the run).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "case.h"

#if defined(__AVR__)
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>

static int uart_put(char c, FILE *stream)
{
    (void)stream;
    while (!(UCSR0A & _BV(UDRE0))) {
    }
    UDR0 = (uint8_t)c;
    return 0;
}

static FILE uart = FDEV_SETUP_STREAM(uart_put, NULL, _FDEV_SETUP_WRITE);
static volatile uint16_t overflows;

ISR(TIMER1_OVF_vect)
{
    overflows++;
}

/* Timer1 counts every cycle (no prescaler); its overflows extend it to 32 bits. */
static void clock_start(void)
{
    TCCR1A = 0;
    TCNT1 = 0;
    overflows = 0;
    TIFR1 = _BV(TOV1);
    TIMSK1 = _BV(TOIE1);
    TCCR1B = _BV(CS10);
    sei();
}

static uint32_t clock_read(void)
{
    uint16_t low, high;
    cli();
    low = TCNT1;
    high = overflows;
    if ((TIFR1 & _BV(TOV1)) && low < 0x8000) {
        high++; /* overflowed after cli(), not yet counted */
    }
    sei();
    return ((uint32_t)high << 16) | low;
}

/* Between the end of static RAM and the stack: painted, so that the deepest
 * the stack went is the lowest byte no longer painted. */
extern uint8_t __heap_start;
#define PAINT 0xC5

static void paint_stack(void)
{
    uint8_t *p = &__heap_start;
    uint8_t *top = (uint8_t *)SP - 16;
    while (p < top) {
        *p++ = PAINT;
    }
}

static unsigned long stack_used(void)
{
    const uint8_t *p = &__heap_start;
    while (*p == PAINT) {
        p++;
    }
    return (unsigned long)(RAMEND - (uintptr_t)p + 1);
}

static void platform_start(void)
{
    UCSR0B = _BV(TXEN0);
    stdout = &uart;
}

static void platform_stop(void)
{
    cli();
    sleep_cpu(); /* simavr ends a run asleep with interrupts off */
}
#else
#include <stdlib.h>
static void platform_start(void)
{
}

static void platform_stop(void)
{
    fflush(stdout);
    exit(0); /* semihosting: ends QEMU with this status */
}
#endif

static void print_real(const char *label, NET(real) value)
{
    uint32_t words[sizeof(NET(real)) / 4];
    size_t i;
    memcpy(words, &value, sizeof words);
    printf("%s", label);
    /* Most significant word first: the number's bits as one hexadecimal. */
    for (i = sizeof words / 4; i > 0; i--) {
        printf("%08lx", (unsigned long)words[i - 1]);
    }
    printf("\n");
}

static const NET(real) xs[] = XS;
static const NET(real) ys[] = YS;
static NET(real) params[NET_UPPER(N_PARAMS)] = START;
static NET(real) moments[NET_UPPER(N_MOMENTS)(OPTIMIZER) + 1];
static size_t order[BATCH_SIZE ? N_SAMPLES : 1];

int main(void)
{
    NET(options) options;
    NET(trainer) trainer;
    size_t i;
    int code;
#if defined(__AVR__)
    uint32_t cycles;
    paint_stack();
#endif
    platform_start();
    NET(default_options)(&options);
    options.optimizer = OPTIMIZER;
    options.lr = LR;
    options.epochs = EPOCHS;
    options.batch_size = BATCH_SIZE;
    options.seed = 1;
#if defined(__AVR__)
    clock_start();
#endif
    code = NET(trainer_init)(&trainer, &options, N_SAMPLES, order, moments);
    while (code == NET_UPPER(OK) && !trainer.finished) {
        code = NET(train_epochs)(&trainer, params, xs, ys, CHUNK_EPOCHS, NULL);
    }
#if defined(__AVR__)
    cycles = clock_read();
#endif
    printf("code %d\nepochs %ld\n", code, (long)trainer.epochs_run);
    print_real("objective ", trainer.objective);
    for (i = 0; i < NET_UPPER(N_PARAMS); i++) {
        print_real("param ", params[i]);
    }
#if defined(__AVR__)
    printf("cycles %lu\nstack %lu\n", (unsigned long)cycles, stack_used());
#endif
    printf("end\n");
    platform_stop();
    return 0;
}
