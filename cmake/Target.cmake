# The musl-target build of our own C++: static binaries only.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
add_compile_options(-Wall -Wextra -Werror=return-type)

# The toolchain confines package searches to its sysroot: name the packages' dirs.
set(absl_DIR "${MICROBEAM_DEPS}/lib/cmake/absl")
set(GTest_DIR "${MICROBEAM_DEPS}/lib/cmake/GTest")
find_package(absl REQUIRED CONFIG)
find_package(GTest REQUIRED CONFIG)
add_library(libcap STATIC IMPORTED)
set_target_properties(libcap PROPERTIES IMPORTED_LOCATION "${MICROBEAM_DEPS}/lib/libcap.a"
                                        INTERFACE_INCLUDE_DIRECTORIES "${MICROBEAM_DEPS}/include")
# Each ERTS (MICROBEAM_ERTS: OTP 25, MICROBEAM_ERTS27: OTP 27) is included by the /init
# links that use it: supervisor/link/.

enable_testing()
add_subdirectory(initramfs/cpio)
add_subdirectory(supervisor)
add_subdirectory(tests/unit)
