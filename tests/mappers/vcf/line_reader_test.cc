// LineReader: plain, gzip and multi-member (BGZF-like) input, chunk
// boundaries, limits and corrupt data. Compressed inputs are made here with
// zlib.
#include "mappers/vcf/line_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One gzip member holding `data`.
std::string Gzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// `data` as consecutive gzip members of `block` bytes (like BGZF, without
// the BC field).
std::string GzipMembers(const std::string& data, size_t block) {
  std::string out;
  for (size_t i = 0; i < data.size(); i += block) {
    out += Gzip(data.substr(i, block));
  }
  return out;
}

std::vector<std::string> ReadAll(LineReader& r) {
  std::vector<std::string> lines;
  std::string_view line;
  while (true) {
    Result<bool> more = r.ReadLine(&line);
    EXPECT_TRUE(more.ok()) << more.error().message();
    if (!more.ok() || !*more) break;
    lines.emplace_back(line);
  }
  return lines;
}

std::string NumberedLines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "line " + std::to_string(i) + " " + std::string(i % 97, 'x') + "\n";
  }
  return s;
}

class TempFile {
 public:
  explicit TempFile(const std::string& data) {
    path_ =
        (std::filesystem::temp_directory_path() /
         ("genogate_lr_" + std::to_string(reinterpret_cast<uintptr_t>(this))))
            .string();
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LineReaderTest, PlainMemoryLines) {
  auto r = LineReader::FromString("a\nbb\r\n\nccc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->compression(), Compression::kNone);
  EXPECT_THAT(ReadAll(**r), ElementsAre("a", "bb", "", "ccc"));
  EXPECT_EQ((*r)->line_number(), 4u);
}

TEST(LineReaderTest, EmptyInput) {
  auto r = LineReader::FromString("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(ReadAll(**r).empty());
}

TEST(LineReaderTest, FileAcrossChunkBoundaries) {
  std::string text = NumberedLines(5000);
  TempFile f(text);
  LineReaderOptions o;
  o.chunk_size = 4096;  // the minimum: lines straddle many chunks
  auto r = LineReader::OpenFile(f.path(), o);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> lines = ReadAll(**r);
  ASSERT_EQ(lines.size(), 5000u);
  EXPECT_EQ(lines[4999], "line 4999 " + std::string(4999 % 97, 'x'));
  EXPECT_EQ((*r)->text_bytes(), text.size());
}

TEST(LineReaderTest, GzipFileAndMultiMember) {
  std::string text = NumberedLines(3000);
  for (const std::string& data :
       {Gzip(text), GzipMembers(text, 1000), GzipMembers(text, 65280)}) {
    TempFile f(data);
    LineReaderOptions o;
    o.chunk_size = 4096;
    auto r = LineReader::OpenFile(f.path(), o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->compression(), Compression::kGzip);
    std::vector<std::string> lines = ReadAll(**r);
    ASSERT_EQ(lines.size(), 3000u);
    EXPECT_EQ(lines[1234], "line 1234 " + std::string(1234 % 97, 'x'));
    EXPECT_EQ((*r)->source_bytes(), data.size());
  }
}

TEST(LineReaderTest, ConcatenatedGzipInMemory) {
  std::string data = Gzip("one\ntw") + Gzip("o\nthree\n") + Gzip("");
  auto r = LineReader::FromString(data);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(ReadAll(**r), ElementsAre("one", "two", "three"));
}

TEST(LineReaderTest, TruncatedGzip) {
  std::string gz = Gzip(NumberedLines(2000));
  auto r = LineReader::FromString(gz.substr(0, gz.size() / 2));
  ASSERT_TRUE(r.ok());
  std::string_view line;
  Result<bool> more = true;
  while (more.ok() && *more) more = (*r)->ReadLine(&line);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code(), ErrorCode::kInvalidInput);
  EXPECT_THAT(more.error().message(), HasSubstr("truncated"));
  // The gzip trailer alone missing (8 bytes) is also truncation.
  auto r2 = LineReader::FromString(gz.substr(0, gz.size() - 4));
  ASSERT_TRUE(r2.ok());
  more = true;
  while (more.ok() && *more) more = (*r2)->ReadLine(&line);
  ASSERT_FALSE(more.ok());
}

TEST(LineReaderTest, CorruptGzip) {
  std::string gz = Gzip(NumberedLines(100));
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  auto r = LineReader::FromString(gz);
  ASSERT_TRUE(r.ok());
  std::string_view line;
  Result<bool> more = true;
  while (more.ok() && *more) more = (*r)->ReadLine(&line);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.error().code(), ErrorCode::kInvalidInput);
}

TEST(LineReaderTest, LineLimitPlainGzipAndFile) {
  std::string text = "short\n" + std::string(150, 'A') + "\nafter\n";
  LineReaderOptions o;
  o.max_line_length = 100;
  o.chunk_size = 4096;
  TempFile f(text);
  std::vector<Result<std::unique_ptr<LineReader>>> readers;
  readers.push_back(LineReader::FromString(text, o));
  readers.push_back(LineReader::FromString(Gzip(text), o));
  readers.push_back(LineReader::OpenFile(f.path(), o));
  for (auto& r : readers) {
    ASSERT_TRUE(r.ok());
    std::string_view line;
    ASSERT_TRUE(*(*r)->ReadLine(&line));
    EXPECT_EQ(line, "short");
    Result<bool> more = (*r)->ReadLine(&line);
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.error().code(), ErrorCode::kLimitExceeded);
    EXPECT_EQ((*r)->line_number() + 1, 2u);  // the failing line
  }
}

TEST(LineReaderTest, LongLineWithinLimitGrowsBuffer) {
  std::string big(3 << 20, 'G');  // 3 MiB line, chunks of 4 KiB
  std::string text = "a\n" + big + "\nz\n";
  LineReaderOptions o;
  o.chunk_size = 4096;
  TempFile f(Gzip(text));
  auto r = LineReader::OpenFile(f.path(), o);
  ASSERT_TRUE(r.ok());
  std::vector<std::string> lines = ReadAll(**r);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), big.size());
  EXPECT_EQ(lines[2], "z");
}

TEST(LineReaderTest, UnsupportedCompressionByMagic) {
  for (const std::string& magic : {std::string("BZh91AY&SY"),
                                   std::string("\xfd"
                                               "7zXZ\0rest",
                                               10),
                                   std::string("\x28\xb5\x2f\xfd rest")}) {
    auto r = LineReader::FromString(magic);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidInput);
    EXPECT_THAT(r.error().message(), HasSubstr("only plain, gzip and bgzip"));
  }
}

TEST(LineReaderTest, MissingFile) {
  auto r = LineReader::OpenFile("/nonexistent/dir/x.vcf");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST(TextUtilTest, Numbers) {
  int64_t i = 0;
  EXPECT_TRUE(ParseInt64("-12", &i));
  EXPECT_EQ(i, -12);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &i));
  EXPECT_FALSE(ParseInt64("9223372036854775808", &i));
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &i));
  EXPECT_FALSE(ParseInt64("", &i));
  EXPECT_FALSE(ParseInt64("-", &i));
  EXPECT_FALSE(ParseInt64("1 ", &i));
  EXPECT_FALSE(ParseInt64("0x1", &i));
  double d = 0;
  EXPECT_TRUE(ParseDouble("0.5", &d));
  EXPECT_EQ(d, 0.5);
  EXPECT_TRUE(ParseDouble("-1e-3", &d));
  EXPECT_EQ(d, -1e-3);
  EXPECT_TRUE(ParseDouble("+2", &d));
  EXPECT_TRUE(ParseDouble(".5", &d));
  EXPECT_TRUE(ParseDouble("NaN", &d));
  EXPECT_TRUE(ParseDouble("-Inf", &d));
  EXPECT_FALSE(ParseDouble("0.5x", &d));
  EXPECT_FALSE(ParseDouble("+-1", &d));
  EXPECT_FALSE(ParseDouble("", &d));
  EXPECT_FALSE(ParseDouble("1,5", &d));
}

TEST(TextUtilTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("p.Leu36%3D"), "p.Leu36=");
  EXPECT_EQ(PercentDecode("%3A%3B%3D%25%2C"), ":;=%,");
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%2c"), ",");
}

}  // namespace
}  // namespace genogate::mappers::vcf
