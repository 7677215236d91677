# Third-party libraries, all from Debian 12 packages (see scripts/setup.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(LibXml2 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# Beast and Asio are header-only; Boost.System is header-only since 1.69.
set(Boost_NO_WARN_NEW_VERSIONS ON)
find_package(Boost 1.81 EXACT REQUIRED)

# RapidJSON's config exports only variables; wrap them in a target whose
# headers are SYSTEM so its warnings do not fail the build.
add_library(genogate_rapidjson INTERFACE)
target_include_directories(genogate_rapidjson SYSTEM INTERFACE ${RapidJSON_INCLUDE_DIRS} ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(genogate_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)
