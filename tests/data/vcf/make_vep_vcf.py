#!/usr/bin/env python3
"""Writes vep.vcf: a small VEP-annotated VCF whose CSQ entries are built from
named fields, so that every '|' lands in the right column."""
import os

FIELDS = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|"
          "EXON|INTRON|HGVSc|HGVSp|cDNA_position|CDS_position|Protein_position|"
          "Amino_acids|Codons|Existing_variation|DISTANCE|STRAND|FLAGS|"
          "SYMBOL_SOURCE|HGNC_ID|CANONICAL|MANE_SELECT").split("|")


def csq(**kv):
    unknown = set(kv) - set(FIELDS)
    assert not unknown, unknown
    return "|".join(kv.get(f, "") for f in FIELDS)


BRCA1 = dict(SYMBOL="BRCA1", Gene="ENSG00000012048", Feature_type="Transcript",
             Feature="ENST00000357654.9", BIOTYPE="protein_coding", STRAND="-1",
             SYMBOL_SOURCE="HGNC", HGNC_ID="HGNC:1100", CANONICAL="YES",
             MANE_SELECT="NM_007294.4")
CFTR = dict(SYMBOL="CFTR", Gene="ENSG00000001626", Feature_type="Transcript",
            Feature="ENST00000003084.11", BIOTYPE="protein_coding", STRAND="1",
            SYMBOL_SOURCE="HGNC", HGNC_ID="HGNC:1884", CANONICAL="YES",
            MANE_SELECT="NM_000492.4")
TP53 = dict(SYMBOL="TP53", Gene="ENSG00000141510", Feature_type="Transcript",
            Feature="ENST00000269305.9", BIOTYPE="protein_coding", STRAND="-1",
            SYMBOL_SOURCE="HGNC", HGNC_ID="HGNC:11998", CANONICAL="YES",
            MANE_SELECT="NM_000546.6")

records = [
    ("chr17", 43094464, "G", "A", "DP=50", [
        csq(Allele="A", Consequence="missense_variant", IMPACT="MODERATE",
            EXON="10/23", HGVSc="ENST00000357654.9:c.2612C>T",
            HGVSp="ENSP00000350283.3:p.Pro871Leu", Existing_variation="rs799917",
            **BRCA1),
        csq(Allele="A", Consequence="downstream_gene_variant", IMPACT="MODIFIER",
            SYMBOL="NBR2", Gene="ENSG00000198496", Feature_type="Transcript",
            Feature="ENST00000497488.1", BIOTYPE="lncRNA", DISTANCE="2000",
            STRAND="1", SYMBOL_SOURCE="HGNC", HGNC_ID="HGNC:20691"),
    ], "GT:AD:DP:AF", "0/1:25,25:50:0.5"),
    # Multi-allelic indel: VEP trims the shared first base: C -> "-", CAA -> "AA".
    ("chr7", 117559590, "CA", "C,CAA", "DP=24", [
        csq(Allele="-", Consequence="frameshift_variant", IMPACT="HIGH",
            EXON="11/27", HGVSc="ENST00000003084.11:c.1521del",
            HGVSp="ENSP00000003084.6:p.Phe508LeufsTer10", **CFTR),
        csq(Allele="AA", Consequence="frameshift_variant&splice_region_variant",
            IMPACT="HIGH", EXON="11/27", HGVSc="ENST00000003084.11:c.1521dup",
            HGVSp="ENSP00000003084.6:p.Phe508ValfsTer2", **CFTR),
    ], "GT:AD:DP:AF", "1/2:10,8,6:24:0.33,0.25"),
    # Synonymous: VEP percent-encodes '=' in HGVSp.
    ("chr17", 7676154, "G", "C", "DP=40", [
        csq(Allele="C", Consequence="synonymous_variant", IMPACT="LOW",
            EXON="4/11", HGVSc="ENST00000269305.9:c.108C>G",
            HGVSp="ENSP00000269305.4:p.Pro36%3D", **TP53),
    ], "GT:AD:DP:AF", "0/1:20,20:40:0.5"),
    ("chr17", 7675088, "C", "T,G", "DP=60", [
        csq(Allele="T", Consequence="missense_variant", IMPACT="MODERATE",
            EXON="5/11", HGVSc="ENST00000269305.9:c.524G>A",
            HGVSp="ENSP00000269305.4:p.Arg175His", **TP53),
        csq(Allele="G", Consequence="missense_variant", IMPACT="MODERATE",
            EXON="5/11", HGVSc="ENST00000269305.9:c.524G>C",
            HGVSp="ENSP00000269305.4:p.Arg175Pro", **TP53),
    ], "GT:AD:DP:AF", "1/2:2,30,28:60:0.5,0.47"),
    ("chr17", 43045700, "TG", "T", "DP=30", [
        csq(Allele="-", Consequence="splice_acceptor_variant&intron_variant",
            IMPACT="HIGH", INTRON="22/22",
            HGVSc="ENST00000357654.9:c.5468-1del", **BRCA1),
    ], "GT:AD:DP:AF", "0/1:15,15:30:0.5"),
]

header = [
    "##fileformat=VCFv4.2",
    "##assembly=GRCh38",
    "##contig=<ID=chr7,length=159345973>",
    "##contig=<ID=chr17,length=83257441>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations '
    'from Ensembl VEP. Format: ' + "|".join(FIELDS) + '">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPATIENT1",
]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "vep.vcf"), "w") as out:
    out.write("\n".join(header) + "\n")
    for chrom, pos, ref, alt, info, entries, fmt, sample in records:
        out.write("\t".join([chrom, str(pos), ".", ref, alt, "99", "PASS",
                             info + ";CSQ=" + ",".join(entries), fmt, sample])
                  + "\n")
