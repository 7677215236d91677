# Warnings (as errors unless GENOGATE_WERROR is OFF) and the sanitizer options.
# The flags go on an interface target that every genogate target links, so
# third-party code pulled in with add_subdirectory is not affected.
add_library(genogate_flags INTERFACE)
target_compile_options(genogate_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wno-missing-field-initializers
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>)
if(GENOGATE_WERROR)
  target_compile_options(genogate_flags INTERFACE -Werror)
endif()

if(GENOGATE_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer
           -fno-sanitize-recover=undefined)
  target_compile_options(genogate_flags INTERFACE ${_san})
  target_link_options(genogate_flags INTERFACE ${_san})
endif()

if(GENOGATE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "GENOGATE_FUZZ needs clang: configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Everything is built with coverage instrumentation; only the fuzz
  # executables link the libFuzzer driver.
  target_compile_options(genogate_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(genogate_flags INTERFACE -fsanitize=address,undefined)
endif()
