# crypto: sources, tests and targets of this module (included by Makefile.am).
