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

# The table of static drivers and NIFs as the build makes it (utils/make_driver_tab, rule
# of $(TTF_DIR)/driver_tab.c) but without the static NIFs, compiled as $(OBJDIR)/%.o from
# $(TTF_DIR)/%.c is: the crypto-less /init links it instead of libbeam.a's driver_tab.o.
.PHONY: microbeam-plain-driver-tab
microbeam-plain-driver-tab:
	LANG=C $(PERL) utils/make_driver_tab -o $(MICROBEAM_WORK)/driver_tab_plain.c \
	  -nifs $(NIF_OBJS) -drivers $(DRV_OBJS) $(STATIC_DRIVER_LIBS)
	$(V_CC) $(CFLAGS) $(INCLUDES) -c $(MICROBEAM_WORK)/driver_tab_plain.c \
	  -o $(MICROBEAM_WORK)/driver_tab_plain.o
