// Small file helpers with explicit limits and atomic writes.
//
// Thread-safety: reentrant; concurrent writes to the same path race at the
// final rename (last one wins), never leaving a partial file.
#ifndef GENOGATE_BASE_FILE_H_
#define GENOGATE_BASE_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace genogate {

// Reads a whole file. kNotFound if it does not exist, kLimitExceeded if it
// is larger than `max_bytes`, kIo on a read error.
Result<std::string> ReadFile(const std::string& path,
                             size_t max_bytes = size_t{1} << 30);

// Writes `data` to `path` atomically: a temporary file in the same directory,
// fsync, then rename. kIo on failure (the temporary file is removed).
Status WriteFileAtomic(const std::string& path, std::string_view data);

// True if `path` exists and is a directory / a regular file.
bool IsDirectory(const std::string& path);
bool IsRegularFile(const std::string& path);

}  // namespace genogate

#endif  // GENOGATE_BASE_FILE_H_
