"""Standard-library code that the generated files include verbatim.

Every function, class and constant here is copied, source and comments, into the
files the templates render (see `nnsym.pipeline.runtime_source`), so it is
linted and unit-tested where it lives and exists once. Nothing here imports
nnsym or anything outside the standard library: generated files must run
without either.
"""
