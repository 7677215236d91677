#!/usr/bin/env python3
"""Writes the generated VCF test inputs next to this script:

  malformed/*.vcf     one defect each; vcf_malformed_test.cc names the
                      line, column and reason expected for each
  snv_indel.vcf.gz    snv_indel.vcf as one gzip member
  snv_indel.vcf.bgz   snv_indel.vcf as BGZF: many small gzip members with the
                      "BC" extra subfield, then the empty EOF block
  gzip_named.vcf      gzip data under a plain name (detection is by magic)
  malformed/truncated.vcf.gz       gzip cut in the middle of a member
  malformed/trailing_garbage.vcf.gz  a valid member followed by junk

Deterministic: re-running produces identical files (mtime 0).
"""
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1,length=248956422>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">',
    '##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP membership">',
    '##INFO=<ID=CIPOS,Number=2,Type=Integer,Description="CI around POS">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA12878",
]  # 11 lines: the first record is line 12
GOOD = "1\t100\t.\tA\tG\t50\tPASS\tDP=10\tGT:AD:DP\t0/1:5,5:10"


def rec(chrom="1", pos="200", id_=".", ref="C", alt="T", qual="50",
        filt="PASS", info="DP=10", fmt="GT:AD:DP", sample="0/1:5,5:10"):
    return "\t".join([chrom, pos, id_, ref, alt, qual, filt, info, fmt, sample])


def header_with(index, line):
    h = list(HEADER)
    h[index] = line
    return h


# name -> list of lines. Record defects are on line 13 (after a good line 12).
CASES = {
    "missing_fileformat": HEADER[1:] + [GOOD],
    "bad_fileformat_version": ["##fileformat=VCFv4.0"] + HEADER[1:] + [GOOD],
    "fileformat_twice": [HEADER[0], HEADER[0]] + HEADER[1:] + [GOOD],
    "no_chrom_line": HEADER[:-1] + [GOOD],
    "header_only": HEADER[:-1],
    "chrom_line_spaces": HEADER[:-1] + [HEADER[-1].replace("\t", " ")] + [GOOD],
    "chrom_line_wrong_name": HEADER[:-1] + [HEADER[-1].replace("FILTER", "FILTERS")] + [GOOD],
    "duplicate_sample": HEADER[:-1] + [HEADER[-1] + "\tNA12891\tNA12878"],
    "meta_no_equals": header_with(2, "##this line has no equals sign") + [GOOD],
    "info_header_not_bracketed": header_with(2, '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth"') + [GOOD],
    "info_header_bad_number": header_with(2, '##INFO=<ID=DP,Number=Z,Type=Integer,Description="Total depth">') + [GOOD],
    "info_header_bad_type": header_with(2, '##INFO=<ID=DP,Number=1,Type=Int,Description="Total depth">') + [GOOD],
    "info_header_missing_id": header_with(2, '##INFO=<Number=1,Type=Integer,Description="Total depth">') + [GOOD],
    "info_header_unterminated_quote": header_with(2, '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth>') + [GOOD],
    "info_header_flag_number": header_with(5, '##INFO=<ID=DB,Number=1,Type=Flag,Description="dbSNP membership">') + [GOOD],
    "format_header_flag": header_with(9, '##FORMAT=<ID=DP,Number=0,Type=Flag,Description="Read depth">') + [GOOD],
    "contig_bad_length": header_with(1, "##contig=<ID=1,length=big>") + [GOOD],
    "columns_too_few": HEADER + [GOOD, "\t".join(rec().split("\t")[:9])],
    "columns_too_many": HEADER + [GOOD, rec() + "\t0/1"],
    "columns_spaces": HEADER + [GOOD, rec().replace("\t", " ")],
    "chrom_empty": HEADER + [GOOD, rec(chrom="")],
    "pos_not_integer": HEADER + [GOOD, rec(pos="12a")],
    "pos_negative": HEADER + [GOOD, rec(pos="-5")],
    "id_empty": HEADER + [GOOD, rec(id_="")],
    "ref_bad_chars": HEADER + [GOOD, rec(ref="AXG")],
    "ref_missing": HEADER + [GOOD, rec(ref=".")],
    "alt_bad": HEADER + [GOOD, rec(alt="AZ")],
    "alt_empty_allele": HEADER + [GOOD, rec(alt="A,,G", sample="0/1:5,5,0:10")],
    "alt_bad_breakend": HEADER + [GOOD, rec(alt="G]17:198982[")],
    "alt_bad_symbolic": HEADER + [GOOD, rec(alt="<DEL")],
    "qual_bad": HEADER + [GOOD, rec(qual="high")],
    "filter_empty_name": HEADER + [GOOD, rec(filt="q10;;s50")],
    "info_wrong_type_integer": HEADER + [GOOD, rec(info="DP=abc")],
    "info_wrong_type_float": HEADER + [GOOD, rec(info="DP=10;AF=0.5x;AC=1")],
    "info_number_a_mismatch": HEADER + [GOOD, rec(alt="T,G", info="DP=10;AC=1", sample="1/2:1,5,4:10")],
    "info_number_fixed_mismatch": HEADER + [GOOD, rec(info="DP=10;CIPOS=-10")],
    "info_flag_with_value": HEADER + [GOOD, rec(info="DP=10;DB=1")],
    "info_missing_value": HEADER + [GOOD, rec(info="DP;AF=0.5")],
    "info_duplicate_key": HEADER + [GOOD, rec(info="DP=10;DP=11")],
    "info_no_key": HEADER + [GOOD, rec(info="DP=10;=5")],
    "format_sample_field_count": HEADER + [GOOD, rec(sample="0/1:5,5:10:99")],
    "format_ad_number": HEADER + [GOOD, rec(sample="0/1:5:10")],
    "format_dp_type": HEADER + [GOOD, rec(sample="0/1:5,5:ten")],
    "format_gt_not_first": HEADER + [GOOD, rec(fmt="DP:GT", sample="10:0/1")],
    "format_duplicate_key": HEADER + [GOOD, rec(fmt="GT:DP:DP", sample="0/1:10:10")],
    "gt_bad": HEADER + [GOOD, rec(sample="0/x:5,5:10")],
    "gt_allele_out_of_range": HEADER + [GOOD, rec(sample="0/2:5,5:10")],
    "sample_empty": HEADER + [GOOD, rec(sample="")],
    "header_after_records": HEADER + [GOOD, '##INFO=<ID=X,Number=1,Type=Integer,Description="late">'],
    "long_line": HEADER + [GOOD, rec(info="DP=10;" + "AF=0.5;" * 0 + "X=" + "A" * 300)],
}


def write_lines(path, lines):
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def bgzf_block(data):
    """One BGZF block: a gzip member with the BC extra subfield (SAM spec)."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = comp.compress(data) + comp.flush()
    bsize = 18 + len(deflated) + 8  # header(12) + extra(6) + data + trailer
    head = struct.pack("<BBBBIBBH", 0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6)
    extra = struct.pack("<BBHH", ord("B"), ord("C"), 2, bsize - 1)
    tail = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data))
    return head + extra + deflated + tail


def main():
    mal = os.path.join(HERE, "malformed")
    os.makedirs(mal, exist_ok=True)
    for name, lines in CASES.items():
        write_lines(os.path.join(mal, name + ".vcf"), lines)

    with open(os.path.join(HERE, "snv_indel.vcf"), "rb") as f:
        text = f.read()
    gz = gzip.compress(text, mtime=0)
    with open(os.path.join(HERE, "snv_indel.vcf.gz"), "wb") as f:
        f.write(gz)
    with open(os.path.join(HERE, "gzip_named.vcf"), "wb") as f:
        f.write(gz)
    # BGZF with 512-byte blocks: many members, lines split across members.
    blocks = b"".join(bgzf_block(text[i:i + 512])
                      for i in range(0, len(text), 512))
    with open(os.path.join(HERE, "snv_indel.vcf.bgz"), "wb") as f:
        f.write(blocks + bgzf_block(b""))  # + the BGZF EOF marker block
    with open(os.path.join(mal, "truncated.vcf.gz"), "wb") as f:
        f.write(gz[: len(gz) * 2 // 3])
    with open(os.path.join(mal, "trailing_garbage.vcf.gz"), "wb") as f:
        f.write(gz + b"this is not gzip data\n")


if __name__ == "__main__":
    main()
