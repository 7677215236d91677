// The benchmarks' typical genetic ORU^R01: a BRCA1 germline panel, 2
// variants, 37 OBX, about 3.5 KB (tests/data/hl7v2/
// brca1_germline_two_variants.hl7 with CR separators).
#ifndef GENOGATE_BENCH_HL7V2_MESSAGE_H_
#define GENOGATE_BENCH_HL7V2_MESSAGE_H_

#include <string>

namespace genogate::bench {

inline const std::string& Message() {
  static const std::string* m = new std::string(
      "MSH|^~\\&|GENELAB|GENELAB^2.16.840.1.113883.3.999.1^ISO|GENOGATE|HOSP|"
      "20240315103000+0100||ORU^R01^ORU_R01|MSG00001|P|2.5.1|||AL|NE\r"
      "SFT|Example Genomics Inc.|4.2|GeneReport|4.2.1\r"
      "PID|1||MRN12345^^^HOSP&2.16.840.1.113883.3.999.2&ISO^MR~998877^^^STATE^"
      "SS||Doe^Jane^Q||19800215|F\r"
      "PV1|1|O\r"
      "ORC|RE|ORD-778^HOSP|ACC-2024-0001^GENELAB\r"
      "OBR|1|ORD-778^HOSP|ACC-2024-0001^GENELAB^2.16.840.1.113883.3.999.1^ISO|"
      "51969-4^Genetic analysis "
      "report^LN|||20240310080000+0100|||||||||||||||20240315100000+0100|||F\r"
      "NTE|1|L|Hereditary breast and ovarian cancer panel (BRCA1, BRCA2) by "
      "NGS.\r"
      "OBX|1|CWE|62374-4^Human reference sequence assembly "
      "version^LN||LA26806-2^GRCh38^LN||||||F\r"
      "OBX|2|CWE|51968-6^Genetic disease analysis overall "
      "interpretation^LN||LA6576-8^Positive^LN||||||F\r"
      "OBX|3|CWE|48018-6^Gene studied [ID]^LN|1|HGNC:1100^BRCA1^HGNC||||||F\r"
      "OBX|4|CWE|51958-7^Transcript reference sequence "
      "[ID]^LN|1|NM_007294.4^^RefSeq||||||F\r"
      "OBX|5|CWE|48004-6^DNA change (c.HGVS)^LN|1|c.5266dup^^HGVS||||||F\r"
      "OBX|6|CWE|48005-3^Amino acid change "
      "(pHGVS)^LN|1|NP_009225.1:p.Gln1756ProfsTer74^^HGVS||||||F\r"
      "OBX|7|CWE|48013-7^Genomic reference sequence "
      "[ID]^LN|1|NC_000017.11^^RefSeq||||||F\r"
      "OBX|8|CWE|92822-6^Genomic coordinate system "
      "[Type]^LN|1|LA30102-0^1-based character counting^LN||||||F\r"
      "OBX|9|NR|81254-5^Genomic allele "
      "start-end^LN|1|43057062^43057062||||||F\r"
      "OBX|10|ST|69547-8^Genomic ref allele [ID]^LN|1|T||||||F\r"
      "OBX|11|ST|69551-0^Genomic alt allele [ID]^LN|1|TG||||||F\r"
      "OBX|12|CWE|53034-5^Allelic state^LN|1|LA6706-1^Heterozygous^LN||||||F\r"
      "OBX|13|CWE|48002-0^Genomic source class "
      "[Type]^LN|1|LA6683-2^Germline^LN||||||F\r"
      "OBX|14|CWE|69548-6^Genetic variant "
      "assessment^LN|1|LA9633-4^Present^LN||||||F\r"
      "OBX|15|CWE|53037-8^Genetic variation clinical significance "
      "[Imp]^LN|1|LA6668-3^Pathogenic^LN||||||F\r"
      "OBX|16|CWE|81252-9^Discrete genetic "
      "variant^LN|1|rs80357906^^dbSNP~17662^^ClinVar||||||F\r"
      "OBX|17|CWE|48019-4^DNA change "
      "type^LN|1|SO:1000035^duplication^SO||||||F\r"
      "OBX|18|NM|81258-6^Sample variant allelic frequency "
      "[NFr]^LN|1|0.48|1^^UCUM|||||F\r"
      "OBX|19|NM|82121-5^Allelic read depth^LN|1|57||||||F\r"
      "OBX|20|CWE|48001-2^Cytogenetic (chromosome) "
      "location^LN|1|17q21.31^^ISCN||||||F\r"
      "NTE|1|L|Confirmed by Sanger sequencing.\r"
      "OBX|21|CWE|48018-6^Gene studied [ID]^LN|2|HGNC:1100^BRCA1^HGNC||||||F\r"
      "OBX|22|CWE|51958-7^Transcript reference sequence "
      "[ID]^LN|2|NM_007294.4^^RefSeq||||||F\r"
      "OBX|23|CWE|48004-6^DNA change "
      "(c.HGVS)^LN|2|NM_007294.4:c.4837A>G^^HGVS||||||F\r"
      "OBX|24|CWE|48005-3^Amino acid change "
      "(pHGVS)^LN|2|NP_009225.1:p.Ser1613Gly^^HGVS||||||F\r"
      "OBX|25|CWE|48013-7^Genomic reference sequence "
      "[ID]^LN|2|NC_000017.11^^RefSeq||||||F\r"
      "OBX|26|CWE|92822-6^Genomic coordinate system "
      "[Type]^LN|2|LA30102-0^1-based character counting^LN||||||F\r"
      "OBX|27|NR|81254-5^Genomic allele "
      "start-end^LN|2|43071077^43071077||||||F\r"
      "OBX|28|ST|69547-8^Genomic ref allele [ID]^LN|2|T||||||F\r"
      "OBX|29|ST|69551-0^Genomic alt allele [ID]^LN|2|C||||||F\r"
      "OBX|30|CWE|53034-5^Allelic state^LN|2|LA6705-3^Homozygous^LN||||||F\r"
      "OBX|31|CWE|48002-0^Genomic source class "
      "[Type]^LN|2|LA6683-2^Germline^LN||||||F\r"
      "OBX|32|CWE|53037-8^Genetic variation clinical significance "
      "[Imp]^LN|2|LA6675-8^Benign^LN||||||F\r"
      "OBX|33|CWE|81252-9^Discrete genetic "
      "variant^LN|2|rs1799966^^dbSNP||||||F\r"
      "OBX|34|NM|81258-6^Sample variant allelic frequency "
      "[NFr]^LN|2|1|1^^UCUM|||||F\r"
      "OBX|35|NM|82121-5^Allelic read depth^LN|2|88||||||F\r"
      "OBX|36|CWE|99999-9^Local panel version^LN||v4^Panel v4^L||||||F\r"
      "OBX|37|TX|51969-4^Genetic analysis report^LN||One pathogenic BRCA1 "
      "variant detected\\.br\\See variant details.||||||F\r"
      "SPM|1|^SPEC-555&GENELAB||BLD^Whole "
      "blood^HL70487|||||||||||||20240308091500+0100\r");
  return *m;
}

}  // namespace genogate::bench

#endif  // GENOGATE_BENCH_HL7V2_MESSAGE_H_
