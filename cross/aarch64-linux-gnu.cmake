# Cross-compiles Reef for 64-bit ARM Linux (Raspberry Pi 3/4/5 and Zero 2 running a
# 64-bit OS) with Debian's cross compiler and the arm64 multiarch libraries that
# cross/setup.sh installs under /usr/lib/aarch64-linux-gnu.
#   cmake -S . -B build-cross-arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cross/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER /usr/bin/aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER /usr/bin/aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch keeps the target's libraries and CMake package files under / (in
# lib/aarch64-linux-gnu), so / is a root too; programs (protoc, grpc_cpp_plugin) are
# the build machine's own.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The build machine's pkg-config, reading only the target's .pc files.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)

# ctest (and doctest's test discovery) run the test binaries under qemu-user; no
# binfmt_misc needed. -L / loads the multiarch dynamic linker (libc6:arm64) so that it
# matches libc.so.6, found there too. With -L /usr/aarch64-linux-gnu the cross
# toolchain's older ld.so meets the multiarch libc.so.6 and the first pthread_create
# spins forever (seen with 2.36-8cross1 vs 2.36-9+deb12u14).
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64;-L;/)
