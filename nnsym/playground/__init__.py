"""The playground: one offline HTML page that trains a network live, with its formulas.

A tool above the pipeline and the explain tools; `build_playground` in
`nnsym.playground.page` makes the page.
"""
