# Uses ccache for C and C++ when it is installed.
find_program(GENOGATE_CCACHE ccache)
if(GENOGATE_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${GENOGATE_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${GENOGATE_CCACHE})
  message(STATUS "genogate: compiling through ${GENOGATE_CCACHE}")
endif()
