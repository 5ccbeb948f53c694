# The superbuild: each third-party part is built once per set of inputs into the cache
# (MICROBEAM_CACHE, default /var/cache/microbeam), so a warm rebuild only builds our code.
include(ExternalProject)

if(DEFINED ENV{MICROBEAM_CACHE})
  set(MICROBEAM_CACHE "$ENV{MICROBEAM_CACHE}" CACHE PATH "build cache outside the repo")
else()
  set(MICROBEAM_CACHE "/var/cache/microbeam" CACHE PATH "build cache outside the repo")
endif()
set(OUT "${CMAKE_SOURCE_DIR}/out")
file(MAKE_DIRECTORY "${OUT}")
find_program(OBJCOPY NAMES objcopy llvm-objcopy-14 REQUIRED)
find_program(ZSTD zstd REQUIRED)
find_program(PYTHON3 python3 REQUIRED)

# microbeam_cached_step(NAME SCRIPT s RESULT var [INPUTS files...] [PINS names...] [ARGS args...])
# Runs `SCRIPT DIR ARGS...` once per distinct input set; DIR is
# ${MICROBEAM_CACHE}/NAME-KEY, KEY a hash of the script, its inputs, the lines of
# cmake/debian-sources.txt that pin the source packages PINS (only those: a new pin
# does not rebuild every step) and ARGS (which name earlier steps' directories, so
# their keys chain).
# Pins of another Debian release (cmake/debian-pool-sources.txt) are looked up the same way.
file(STRINGS cmake/debian-sources.txt microbeam_pin_lines REGEX "^[a-z0-9]")
file(STRINGS cmake/debian-pool-sources.txt microbeam_pool_pin_lines REGEX "^[a-z0-9]")
list(APPEND microbeam_pin_lines ${microbeam_pool_pin_lines})
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/cmake/debian-sources.txt"
  "${CMAKE_SOURCE_DIR}/cmake/debian-pool-sources.txt")
function(microbeam_cached_step name)
  cmake_parse_arguments(S "" "SCRIPT;RESULT" "INPUTS;ARGS;PINS" ${ARGN})
  set(fingerprint "${S_ARGS}")
  foreach(pin IN LISTS S_PINS)
    set(found "")
    foreach(line IN LISTS microbeam_pin_lines)
      if(line MATCHES "^${pin} ")
        string(REGEX REPLACE "[ \t]+" " " found "${line}")
      endif()
    endforeach()
    if(found STREQUAL "")
      message(FATAL_ERROR "step ${name}: source package ${pin} is not pinned in cmake/debian-sources.txt "
                          "nor in cmake/debian-pool-sources.txt")
    endif()
    string(APPEND fingerprint ";pin=${found}")
  endforeach()
  foreach(f IN LISTS S_SCRIPT S_INPUTS ITEMS cmake/fetch-debian-source.sh)
    get_filename_component(abs "${f}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
    file(SHA256 "${abs}" h)
    file(RELATIVE_PATH rel "${CMAKE_SOURCE_DIR}" "${abs}")
    string(APPEND fingerprint ";${rel}=${h}")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${abs}")
  endforeach()
  string(SHA256 key "${fingerprint}")
  string(SUBSTRING "${key}" 0 12 key)
  set(dir "${MICROBEAM_CACHE}/${name}-${key}")
  add_custom_command(OUTPUT "${dir}/.done"
    COMMAND "${CMAKE_SOURCE_DIR}/${S_SCRIPT}" "${dir}" ${S_ARGS}
    USES_TERMINAL COMMENT "Building ${name} (cache: ${dir})")
  add_custom_target(${name} DEPENDS "${dir}/.done")
  set(${S_RESULT} "${dir}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE toolchain_inputs CONFIGURE_DEPENDS cmake/musl-toolchain/*)
microbeam_cached_step(toolchain SCRIPT cmake/build-musl-toolchain.sh RESULT TOOLCHAIN_DIR
  INPUTS ${toolchain_inputs} PINS musl llvm-toolchain-14)

# OpenSSL's libcrypto for the crypto NIF, static for musl (why 3.0: docs/crypto.md).
microbeam_cached_step(openssl SCRIPT erts-static/openssl/build.sh RESULT OPENSSL_DIR
  PINS openssl ARGS "${TOOLCHAIN_DIR}")
add_dependencies(openssl toolchain)

file(GLOB erts_inputs CONFIGURE_DEPENDS erts-static/*.sh erts-static/*.mk erts-static/*.h
  erts-static/patches/*/*.patch)
microbeam_cached_step(erts SCRIPT erts-static/build.sh RESULT ERTS_DIR
  INPUTS ${erts_inputs} PINS erlang ARGS "${TOOLCHAIN_DIR}" "${OPENSSL_DIR}")
add_dependencies(erts toolchain openssl)

# OTP 27 (docs/otp.md): one pinned upstream tarball (trixie's erlang), two builds of it:
# the static ERTS 27 by the same recipe as 25's, and the host's OTP 27 toolchain (erl,
# erlc, the OTP applications) for building releases for it, plus Elixir 1.18 on top.
microbeam_cached_step(erts27 SCRIPT erts-static/build.sh RESULT ERTS27_DIR
  INPUTS ${erts_inputs} cmake/fetch-debian-pool.sh PINS erlang-27
  ARGS "${TOOLCHAIN_DIR}" "${OPENSSL_DIR}" erlang-27)
add_dependencies(erts27 toolchain openssl)
microbeam_cached_step(otp27_host SCRIPT erts-static/host/build-otp.sh RESULT OTP27_HOST_DIR
  INPUTS cmake/fetch-debian-pool.sh PINS erlang-27 ARGS erlang-27)
microbeam_cached_step(elixir_host SCRIPT erts-static/host/build-elixir.sh RESULT ELIXIR_HOST_DIR
  INPUTS cmake/fetch-debian-pool.sh PINS elixir-lang ARGS "${OTP27_HOST_DIR}" elixir-lang)
add_dependencies(elixir_host otp27_host)
# Where `microbeam otp 27 -- CMD` and the tests find that toolchain.
file(WRITE "${OUT}/otp-27.env" "OTP_BIN=${OTP27_HOST_DIR}/bin\nELIXIR_BIN=${ELIXIR_HOST_DIR}/bin\n")

microbeam_cached_step(deps SCRIPT supervisor/deps/build-deps.sh RESULT DEPS_DIR
  PINS abseil googletest libcap2 ARGS "${TOOLCHAIN_DIR}")
add_dependencies(deps toolchain)

# The trust store for images of releases with ssl: Debian's ca-certificates as one PEM
# bundle (out/ca-certificates.crt; `build --release` puts it at /etc/ssl/certs/).
microbeam_cached_step(cacerts SCRIPT initramfs/cacerts/build.sh RESULT CACERTS_DIR PINS ca-certificates)
add_custom_command(OUTPUT "${OUT}/ca-certificates.crt"
  COMMAND "${CMAKE_COMMAND}" -E copy "${CACERTS_DIR}/ca-certificates.crt" "${OUT}/ca-certificates.crt"
  DEPENDS cacerts "${CACERTS_DIR}/.done")

file(GLOB kernel_inputs CONFIGURE_DEPENDS kernel/*.config kernel/patches/*.patch)
microbeam_cached_step(kernel SCRIPT kernel/build.sh RESULT KERNEL_DIR INPUTS ${kernel_inputs})

# Our C++ for the musl target: a nested build of this same source tree.
set(TARGET_BIN "${CMAKE_BINARY_DIR}/target")
# CMake keeps the compilers it found at a build directory's first configure, whatever
# toolchain file comes later: a new toolchain (new key) needs a new build directory, or
# the old sysroot's libc.a (another malloc) is what /init links.
set(target_toolchain_stamp "${TARGET_BIN}/microbeam-toolchain.txt")
set(target_toolchain_was "")
if(EXISTS "${target_toolchain_stamp}")
  file(READ "${target_toolchain_stamp}" target_toolchain_was)
endif()
if(EXISTS "${TARGET_BIN}" AND NOT target_toolchain_was STREQUAL TOOLCHAIN_DIR)
  message(STATUS "toolchain changed (now ${TOOLCHAIN_DIR}): starting ${TARGET_BIN} afresh")
  file(REMOVE_RECURSE "${TARGET_BIN}" "${CMAKE_BINARY_DIR}/target-prefix")
endif()
file(WRITE "${target_toolchain_stamp}" "${TOOLCHAIN_DIR}")
ExternalProject_Add(target
  SOURCE_DIR "${CMAKE_SOURCE_DIR}"
  BINARY_DIR "${TARGET_BIN}"
  CMAKE_ARGS -DMICROBEAM_TARGET=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
             "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_DIR}/musl.cmake"
             "-DMICROBEAM_DEPS=${DEPS_DIR}" "-DMICROBEAM_ERTS=${ERTS_DIR}" "-DMICROBEAM_ERTS27=${ERTS27_DIR}"
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  USES_TERMINAL_BUILD ON
  BUILD_BYPRODUCTS "${TARGET_BIN}/supervisor/microbeam-init" "${TARGET_BIN}/supervisor/microbeam-init-crypto"
                   "${TARGET_BIN}/supervisor/microbeam-init-otp25" "${TARGET_BIN}/supervisor/microbeam-init-crypto-otp25"
                   "${TARGET_BIN}/initramfs/cpio/microbeam-cpio"
  DEPENDS toolchain erts erts27 deps)

# out/microbeam-init.debug as linked; out/microbeam-init stripped, as it goes into the cpio.
# The same for out/microbeam-init-crypto, the variant with crypto/asn1 linked in, which
# `build --release` puts in the image of a release that lists crypto or asn1. Those two
# link ERTS 27 (the demo's); the -otp25 pair links ERTS 25, for releases built with OTP 25
# (the release staging picks by the release's ERTS major: docs/otp.md).
foreach(init IN ITEMS microbeam-init microbeam-init-crypto microbeam-init-otp25 microbeam-init-crypto-otp25)
  add_custom_command(OUTPUT "${OUT}/${init}" "${OUT}/${init}.debug"
    COMMAND "${CMAKE_COMMAND}" -E copy "${TARGET_BIN}/supervisor/${init}" "${OUT}/${init}.debug"
    COMMAND "${OBJCOPY}" --strip-all --add-gnu-debuglink=${OUT}/${init}.debug
            "${OUT}/${init}.debug" "${OUT}/${init}"
    DEPENDS "${TARGET_BIN}/supervisor/${init}"
    COMMENT "Stripping ${init}")
endforeach()

# The demo release, assembled for the guest (stripped .beams, only the apps it needs).
set(RELEASE_BIN "${CMAKE_BINARY_DIR}/release")
file(GLOB_RECURSE demo_sources CONFIGURE_DEPENDS initramfs/demo/lib/* initramfs/demo/config/* initramfs/demo/mix.exs)
# Built with Elixir 1.18 on OTP 27 (the host toolchain above), for ERTS 27's /init.
add_custom_command(OUTPUT "${RELEASE_BIN}/release.spec" "${RELEASE_BIN}/sizes.json"
  COMMAND "${CMAKE_COMMAND}" -E env "MICROBEAM_TOOLCHAIN_PATH=${ELIXIR_HOST_DIR}/bin:${OTP27_HOST_DIR}/bin"
          "${CMAKE_SOURCE_DIR}/initramfs/release/build-demo.sh" "${RELEASE_BIN}" --compress-beams
  DEPENDS ${demo_sources} initramfs/release/build-demo.sh initramfs/release/assemble.escript
          elixir_host "${ELIXIR_HOST_DIR}/.done"
  COMMENT "Building the demo release (Elixir 1.18, OTP 27)")

# The initramfs: /init, the mount points, /dev/console, the release with a boot script
# guided by one profiling boot (initramfs/build_initramfs.py); zstd-compressed for the
# kernel's RD_ZSTD (why zstd: kernel/README.md).
configure_file(initramfs/base.spec.in "${CMAKE_BINARY_DIR}/base.spec" @ONLY)
add_custom_command(OUTPUT "${OUT}/microbeam.cpio"
  COMMAND "${PYTHON3}" "${CMAKE_SOURCE_DIR}/initramfs/build_initramfs.py"
          "${TARGET_BIN}/initramfs/cpio/microbeam-cpio" "${OUT}/microbeam.cpio" "${CMAKE_BINARY_DIR}"
          "${CMAKE_BINARY_DIR}/base.spec" "${RELEASE_BIN}/release.spec" "${RELEASE_BIN}/staging/release"
  DEPENDS "${OUT}/microbeam-init" "${RELEASE_BIN}/release.spec" "${CMAKE_BINARY_DIR}/base.spec"
          "${TARGET_BIN}/initramfs/cpio/microbeam-cpio" initramfs/build_initramfs.py
          initramfs/release/preload_boot.escript
  USES_TERMINAL
  COMMENT "Writing the initramfs")

add_custom_command(OUTPUT "${OUT}/bzImage"
  COMMAND "${CMAKE_COMMAND}" -E copy "${KERNEL_DIR}/bzImage" "${OUT}/bzImage"
  DEPENDS kernel "${KERNEL_DIR}/.done")

# The same kernel as an uncompressed ELF with the PVH entry note, for VMMs that load
# vmlinux directly (Firecracker, cloud-hypervisor): docs/kernel-cmdline.md.
add_custom_command(OUTPUT "${OUT}/vmlinux"
  COMMAND "${CMAKE_COMMAND}" -E copy "${KERNEL_DIR}/vmlinux" "${OUT}/vmlinux"
  DEPENDS kernel "${KERNEL_DIR}/.done")

add_custom_command(OUTPUT "${OUT}/size-report.json"
  COMMAND "${PYTHON3}" "${CMAKE_SOURCE_DIR}/initramfs/size_report.py" --out "${OUT}/size-report.json"
          --kernel "${OUT}/bzImage" --init "${OUT}/microbeam-init" --initramfs "${OUT}/microbeam.cpio"
          --release-sizes "${RELEASE_BIN}/sizes.json"
  DEPENDS "${OUT}/bzImage" "${OUT}/microbeam-init" "${OUT}/microbeam.cpio" "${RELEASE_BIN}/sizes.json"
          initramfs/size_report.py)

add_custom_target(image ALL DEPENDS "${OUT}/bzImage" "${OUT}/vmlinux" "${OUT}/microbeam.cpio" "${OUT}/size-report.json"
  "${OUT}/microbeam-init-crypto" "${OUT}/microbeam-init-otp25" "${OUT}/microbeam-init-crypto-otp25"
  "${OUT}/ca-certificates.crt")
add_dependencies(image target)

# The benchmark against the Debian baseline (cmd/microbeam_cli/bench.py): table,
# out/bench.json, out/bench.svg. Not part of ALL: a full run takes a while.
add_custom_target(bench
  COMMAND "${CMAKE_COMMAND}" -E env "MICROBEAM_OUT=${OUT}"
          "${PYTHON3}" "${CMAKE_SOURCE_DIR}/cmd/microbeam" bench --no-build
  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" USES_TERMINAL)
add_dependencies(bench image)

include(cmake/Tests.cmake)
