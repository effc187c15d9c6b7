# gateway: sources, tests and targets of this part (included by Makefile.am).
