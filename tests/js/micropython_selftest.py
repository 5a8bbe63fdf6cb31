# The module's own selftest on the MicroPython port (see micropython_run.mjs).
import m

assert m.selftest(), "the selftest failed"
