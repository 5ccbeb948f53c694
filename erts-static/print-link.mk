# Added as a second makefile to erts/emulator/$(TARGET)/Makefile by build.sh to print
# exactly what the beam.smp and erl_child_setup links use (see "The emulator itself" and
# "Specials" in erts/emulator/Makefile.in).
.PHONY: microbeam-print-link
microbeam-print-link:
	@printf '%s\n' \
	  'EMU_LD=$(EMU_LD)' \
	  'LDFLAGS=$(LDFLAGS)' \
	  'DEXPORT=$(DEXPORT)' \
	  'INIT_OBJS=$(INIT_OBJS)' \
	  'STATIC_NIF_LIBS=$(STATIC_NIF_LIBS)' \
	  'STATIC_DRIVER_LIBS=$(STATIC_DRIVER_LIBS)' \
	  'LIBS=$(LIBS)' \
	  'EMULATOR_LIB=$(BINDIR)/$(EMULATOR_LIB)' \
	  'CS_OBJ=$(CS_OBJ)' \
	  'CS_LIBS=$(CS_LIBS)' \
	  'VSN=$(VSN)' \
	  'SYSTEM_VSN=$(SYSTEM_VSN)'
