# Cross-compiles Reef for 32-bit ARM Linux with hardware float (Debian armhf: ARMv7
# and later, i.e. Raspberry Pi 2 and newer on a 32-bit OS; Pi 1 and Zero are ARMv6 and
# need a Raspbian sysroot instead) with Debian's cross compiler and the armhf multiarch
# libraries that `cross/setup.sh armhf` installs under /usr/lib/arm-linux-gnueabihf.
#   cmake -S . -B build-cross-armhf -G Ninja -DCMAKE_TOOLCHAIN_FILE=cross/arm-linux-gnueabihf.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER /usr/bin/arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER /usr/bin/arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)
# Silences "parameter passing for argument of type ... changed in GCC 7.1" notes by the
# hundred: they matter only when linking code built by GCC older than 7.1.
set(CMAKE_CXX_FLAGS_INIT -Wno-psabi)

# See aarch64-linux-gnu.cmake for why / is a root and programs come from the host.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)

# -L /: see aarch64-linux-gnu.cmake.
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-arm;-L;/)
