#include "mappers/vcf/refseq.h"

#include <array>

#include "mappers/vcf/text_util.h"

namespace genogate::mappers::vcf {
namespace {

struct ChromEntry {
  std::string_view name;
  std::string_view grch37;
  std::string_view grch38;
  int64_t length37;
  int64_t length38;
};

// NCBI assembly reports GRCh37.p13 / GRCh38 (RefSeq-Accn, Sequence-Length).
constexpr std::array<ChromEntry, 25> kChromosomes = {{
    {"1", "NC_000001.10", "NC_000001.11", 249250621, 248956422},
    {"2", "NC_000002.11", "NC_000002.12", 243199373, 242193529},
    {"3", "NC_000003.11", "NC_000003.12", 198022430, 198295559},
    {"4", "NC_000004.11", "NC_000004.12", 191154276, 190214555},
    {"5", "NC_000005.9", "NC_000005.10", 180915260, 181538259},
    {"6", "NC_000006.11", "NC_000006.12", 171115067, 170805979},
    {"7", "NC_000007.13", "NC_000007.14", 159138663, 159345973},
    {"8", "NC_000008.10", "NC_000008.11", 146364022, 145138636},
    {"9", "NC_000009.11", "NC_000009.12", 141213431, 138394717},
    {"10", "NC_000010.10", "NC_000010.11", 135534747, 133797422},
    {"11", "NC_000011.9", "NC_000011.10", 135006516, 135086622},
    {"12", "NC_000012.11", "NC_000012.12", 133851895, 133275309},
    {"13", "NC_000013.10", "NC_000013.11", 115169878, 114364328},
    {"14", "NC_000014.8", "NC_000014.9", 107349540, 107043718},
    {"15", "NC_000015.9", "NC_000015.10", 102531392, 101991189},
    {"16", "NC_000016.9", "NC_000016.10", 90354753, 90338345},
    {"17", "NC_000017.10", "NC_000017.11", 81195210, 83257441},
    {"18", "NC_000018.9", "NC_000018.10", 78077248, 80373285},
    {"19", "NC_000019.9", "NC_000019.10", 59128983, 58617616},
    {"20", "NC_000020.10", "NC_000020.11", 63025520, 64444167},
    {"21", "NC_000021.8", "NC_000021.9", 48129895, 46709983},
    {"22", "NC_000022.10", "NC_000022.11", 51304566, 50818468},
    {"X", "NC_000023.10", "NC_000023.11", 155270560, 156040895},
    {"Y", "NC_000024.9", "NC_000024.10", 59373566, 57227415},
    {"MT", "NC_012920.1", "NC_012920.1", 0, 0},
}};

const ChromEntry* Find(std::string_view chrom) {
  std::string norm = NormalizeChromosome(chrom);
  for (const ChromEntry& e : kChromosomes) {
    if (e.name == norm) return &e;
  }
  return nullptr;
}

}  // namespace

std::string_view GenomeBuildName(GenomeBuild build) {
  switch (build) {
    case GenomeBuild::kGRCh37:
      return "GRCh37";
    case GenomeBuild::kGRCh38:
      return "GRCh38";
    case GenomeBuild::kUnknown:
      break;
  }
  return "unknown";
}

GenomeBuild ParseGenomeBuild(std::string_view t) {
  for (std::string_view s : {"GRCh37", "hg19", "b37", "37", "hs37d5"}) {
    if (EqualsIgnoreCase(t, s)) return GenomeBuild::kGRCh37;
  }
  for (std::string_view s : {"GRCh38", "hg38", "b38", "38", "hs38"}) {
    if (EqualsIgnoreCase(t, s)) return GenomeBuild::kGRCh38;
  }
  return GenomeBuild::kUnknown;
}

std::string NormalizeChromosome(std::string_view chrom) {
  std::string_view c = chrom;
  if (c.size() > 3 && EqualsIgnoreCase(c.substr(0, 3), "chr")) {
    c.remove_prefix(3);
  }
  if (EqualsIgnoreCase(c, "M") || EqualsIgnoreCase(c, "MT")) return "MT";
  if (EqualsIgnoreCase(c, "X")) return "X";
  if (EqualsIgnoreCase(c, "Y")) return "Y";
  return std::string(c);
}

std::optional<std::string_view> RefSeqAccession(std::string_view chrom,
                                                GenomeBuild build) {
  if (build == GenomeBuild::kUnknown) return std::nullopt;
  const ChromEntry* e = Find(chrom);
  if (!e) return std::nullopt;
  return build == GenomeBuild::kGRCh37 ? e->grch37 : e->grch38;
}

bool ChromosomeFromRefSeq(std::string_view accession, std::string* chrom,
                          GenomeBuild* build) {
  for (const ChromEntry& e : kChromosomes) {
    if (e.grch37 == e.grch38 && accession == e.grch37) {
      *chrom = std::string(e.name);
      *build = GenomeBuild::kUnknown;
      return true;
    }
    if (accession == e.grch37 || accession == e.grch38) {
      *chrom = std::string(e.name);
      *build =
          accession == e.grch37 ? GenomeBuild::kGRCh37 : GenomeBuild::kGRCh38;
      return true;
    }
  }
  return false;
}

std::optional<int64_t> ChromosomeLength(std::string_view chrom,
                                        GenomeBuild build) {
  if (build == GenomeBuild::kUnknown) return std::nullopt;
  const ChromEntry* e = Find(chrom);
  if (!e || e->length37 == 0) return std::nullopt;
  return build == GenomeBuild::kGRCh37 ? e->length37 : e->length38;
}

}  // namespace genogate::mappers::vcf
