/* The runtime's macros for compiling its files on their own (the tests): the
 * double version prefixed nnsym_. Generated trainers define their own before the
 * runtime and never include this file. */
#ifndef NNSYM_RT
#define NNSYM_RT(name) nnsym_##name
#endif
#ifndef NNSYM_REAL
#define NNSYM_REAL double
#define NNSYM_MATH(name) name
#endif
