// Reading speed of the VCF reader: records/s and MB/s (uncompressed text)
// for plain and gzip input, with full validation, without validation, and
// with the per-ALT API (genotype, depths, CSQ) on every record.
//
// usage: vcf_reader_bench FILE.vcf [FILE.vcf ...]
//   Make inputs with bench/gen_vcf.py, e.g.
//     python3 bench/gen_vcf.py 1000000 mixed.vcf
//     python3 bench/gen_vcf.py 2000000 simple.vcf --simple
//   Each file is also gzip-compressed (level 6, in a temp file) and read.
//   Single-threaded; best of 3 runs. MB/s counts uncompressed text.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include "mappers/vcf/vcf_reader.h"

namespace vcf = genogate::mappers::vcf;

namespace {

enum class Mode { kValidate, kNoValidation, kFullApi };

struct Figures {
  uint64_t records = 0;
  uint64_t text_bytes = 0;
  uint64_t checksum = 0;
  double seconds = 0;      // wall clock
  double cpu_seconds = 0;  // process CPU time (fairer on a busy machine)
};

Figures ReadOnce(const std::string& path, Mode mode) {
  vcf::VcfReaderOptions opts;
  if (mode == Mode::kNoValidation) {
    opts.parse.validate_info = false;
    opts.parse.validate_samples = false;
  }
  Figures f;
  auto start = std::chrono::steady_clock::now();
  std::clock_t cpu_start = std::clock();
  vcf::VcfReader reader(opts);
  if (!reader.OpenFile(path).ok()) {
    std::fprintf(stderr, "%s\n", reader.error().Message().c_str());
    std::exit(1);
  }
  vcf::VcfRecord rec;
  while (true) {
    auto more = reader.Next(&rec);
    if (!more.ok()) {
      std::fprintf(stderr, "%s\n", more.error().message().c_str());
      std::exit(1);
    }
    if (!*more) break;
    f.checksum += static_cast<uint64_t>(rec.pos()) + rec.num_alts();
    if (mode == Mode::kFullApi) {
      for (size_t i = 1; i <= rec.num_alts(); ++i) {
        vcf::AlleleView a = rec.Allele(i);
        vcf::AlleleCall c = a.Call(0);
        f.checksum += c.alt_depth.value_or(0) + c.copies;
        f.checksum += a.Csq().size();
        f.checksum += a.Info("AF").value_or("").size();
      }
      f.checksum += rec.ClinVar().clnsig.size();
    }
  }
  f.records = reader.records_read();
  f.text_bytes = reader.text_bytes();
  f.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  f.cpu_seconds =
      static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  return f;
}

Figures Best(const std::string& path, Mode mode) {
  Figures best;
  for (int i = 0; i < 3; ++i) {
    Figures f = ReadOnce(path, mode);
    if (i == 0 || f.cpu_seconds < best.cpu_seconds) best = f;
  }
  return best;
}

bool GzipFile(const std::string& in, const std::string& out) {
  std::FILE* src = std::fopen(in.c_str(), "rb");
  gzFile dst = gzopen(out.c_str(), "wb6");
  if (!src || !dst) return false;
  std::string buf(1 << 20, '\0');
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), src)) > 0) {
    gzwrite(dst, buf.data(), static_cast<unsigned>(n));
  }
  std::fclose(src);
  gzclose(dst);
  return true;
}

void Report(const char* label, const Figures& f) {
  std::printf(
      "  %-34s %9.0f records/s %7.1f MB/s per CPU-second | wall %9.0f "
      "records/s (%llu records)\n",
      label, f.records / f.cpu_seconds, f.text_bytes / f.cpu_seconds / 1e6,
      f.records / f.seconds, static_cast<unsigned long long>(f.records));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.vcf [FILE.vcf ...]\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    std::string gz =
        (std::filesystem::temp_directory_path() /
         (std::filesystem::path(path).filename().string() + ".bench.gz"))
            .string();
    if (!GzipFile(path, gz)) {
      std::fprintf(stderr, "cannot gzip %s\n", path.c_str());
      return 1;
    }
    std::printf("%s (%.1f MB, gzip %.1f MB)\n", path.c_str(),
                std::filesystem::file_size(path) / 1e6,
                std::filesystem::file_size(gz) / 1e6);
    Report("plain, validated", Best(path, Mode::kValidate));
    Report("plain, no INFO/sample validation", Best(path, Mode::kNoValidation));
    Report("plain, validated + per-ALT API", Best(path, Mode::kFullApi));
    Report("gzip, validated", Best(gz, Mode::kValidate));
    std::filesystem::remove(gz);
  }
  return 0;
}
