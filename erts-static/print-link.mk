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
# of $(TTF_DIR)/driver_tab.c) but with the static NIF archives MICROBEAM_STATIC_NIFS (only
# their base names matter), compiled as $(OBJDIR)/%.o from $(TTF_DIR)/%.c is, with
# MICROBEAM_TAB_HEADER included first, into MICROBEAM_WORK/MICROBEAM_TAB.o.
.PHONY: microbeam-driver-tab
microbeam-driver-tab:
	LANG=C $(PERL) utils/make_driver_tab -o $(MICROBEAM_WORK)/$(MICROBEAM_TAB).c \
	  -nifs $(NIF_OBJS) $(MICROBEAM_STATIC_NIFS) -drivers $(DRV_OBJS) $(STATIC_DRIVER_LIBS)
	$(V_CC) $(CFLAGS) $(INCLUDES) -include $(MICROBEAM_TAB_HEADER) \
	  -c $(MICROBEAM_WORK)/$(MICROBEAM_TAB).c -o $(MICROBEAM_WORK)/$(MICROBEAM_TAB).o
