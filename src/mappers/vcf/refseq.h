// Human reference assemblies: chromosome name normalisation, RefSeq NC_
// accessions and primary-assembly chromosome lengths for GRCh37 and GRCh38.
//
// Sources (checked against each other): the NCBI assembly reports for
// GRCh37.p13 (GCF_000001405.25) and GRCh38 (GCF_000001405.26+), columns
// "RefSeq-Accn" and "Sequence-Length", and the UCSC hg19/hg38 chrom.sizes.
// The GRCh38 version of every nuclear chromosome accession is the GRCh37
// version + 1 (chr1 NC_000001.10 -> .11, chr3 NC_000003.11 -> .12, chr14
// NC_000014.8 -> .9, ...). Both builds use the rCRS mitochondrion
// NC_012920.1 (GRCh37.p13 onwards; UCSC hg19's chrM is NC_001807.4, which
// is a different sequence and is not returned here).
//
// All functions are pure and thread-safe; the tables are constant.
#ifndef GENOGATE_MAPPERS_VCF_REFSEQ_H_
#define GENOGATE_MAPPERS_VCF_REFSEQ_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace genogate::mappers::vcf {

enum class GenomeBuild { kUnknown, kGRCh37, kGRCh38 };

// "GRCh37", "GRCh38" or "unknown".
std::string_view GenomeBuildName(GenomeBuild build);
// Parses "GRCh37"/"hg19"/"b37"/"37" and "GRCh38"/"hg38"/"38" (any case);
// kUnknown otherwise.
GenomeBuild ParseGenomeBuild(std::string_view text);

// The canonical chromosome name: "chr1"/"CHR1"/"1" -> "1", "chrX" -> "X",
// "chrM"/"M"/"chrMT"/"MT" -> "MT". Other names (contigs,
// "chr1_gl000191_random", "NC_000001.11") are returned unchanged except for the
// "chr" prefix of primary names.
std::string NormalizeChromosome(std::string_view chrom);

// The RefSeq accession of a primary chromosome ("1".."22", "X", "Y", "MT";
// any name NormalizeChromosome understands) in `build`, e.g. ("17", kGRCh38)
// -> "NC_000017.11". nullopt for other contigs or kUnknown.
std::optional<std::string_view> RefSeqAccession(std::string_view chrom,
                                                GenomeBuild build);

// The inverse: "NC_000017.11" -> chromosome "17" and build kGRCh38.
// "NC_012920.1" gives "MT" with build kUnknown (shared by both builds).
// False for anything else.
bool ChromosomeFromRefSeq(std::string_view accession, std::string* chrom,
                          GenomeBuild* build);

// The length of a primary chromosome (1..22, X, Y) in `build`; nullopt
// otherwise (MT is not listed: it is the same in both builds).
std::optional<int64_t> ChromosomeLength(std::string_view chrom,
                                        GenomeBuild build);

}  // namespace genogate::mappers::vcf

#endif  // GENOGATE_MAPPERS_VCF_REFSEQ_H_
