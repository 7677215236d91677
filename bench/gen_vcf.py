#!/usr/bin/env python3
"""Writes a deterministic synthetic VCF for benchmarking the VCF reader.

usage: gen_vcf.py N OUT [--simple]

N records on GRCh38 contigs (chr1..chr22, X), one sample. The default mix is
about 65% SNVs, 15% indels, 10% multi-allelic sites, 10% MNVs; every third
record has VEP CSQ annotations (two transcripts) and every tenth ClinVar
fields. --simple writes plain biallelic SNVs with a short INFO (the
"simple record" case). The same N gives the same file byte for byte.
"""
import random
import sys

GRCH38 = [("chr%d" % (i + 1), n) for i, n in enumerate([
    248956422, 242193529, 198295559, 190214555, 181538259, 170805979,
    159345973, 145138636, 138394717, 133797422, 135086622, 133275309,
    114364328, 107043718, 101991189, 90338345, 83257441, 80373285,
    58617616, 64444167, 46709983, 50818468])] + [("chrX", 156040895)]

CSQ_FIELDS = ("Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|"
              "BIOTYPE|EXON|INTRON|HGVSc|HGVSp|HGNC_ID|CANONICAL")
TERMS = [("missense_variant", "MODERATE"), ("synonymous_variant", "LOW"),
         ("intron_variant", "MODIFIER"), ("stop_gained", "HIGH"),
         ("frameshift_variant", "HIGH"), ("splice_region_variant&intron_variant", "LOW"),
         ("3_prime_UTR_variant", "MODIFIER"), ("upstream_gene_variant", "MODIFIER")]
CLNSIG = ["Pathogenic", "Likely_pathogenic", "Uncertain_significance",
          "Likely_benign", "Benign"]
BASES = "ACGT"


def header(simple):
    h = ["##fileformat=VCFv4.2", "##source=genogate-gen_vcf",
         "##reference=GRCh38"]
    h += ["##contig=<ID=%s,length=%d,assembly=GRCh38>" % c for c in GRCH38]
    h += ['##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
          '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">',
          '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">']
    if not simple:
        h += ['##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence '
              'annotations from Ensembl VEP. Format: %s">' % CSQ_FIELDS,
              '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="ClinVar '
              'clinical significance">',
              '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar '
              'review status">',
              '##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="ClinVar '
              'allele id">']
    h += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
          '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
          '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
          '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">']
    h.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1")
    return h


def csq_entry(rng, allele, k):
    term, impact = TERMS[rng.randrange(len(TERMS))]
    gene = "GENE%d" % rng.randrange(20000)
    tx = "ENST%011d.%d" % (rng.randrange(10**9), rng.randrange(1, 12))
    return "|".join([allele, term, impact, gene, "ENSG%011d" % rng.randrange(10**9),
                     "Transcript", tx, "protein_coding", "%d/20" % (k + 2), "",
                     "%s:c.%d%s>%s" % (tx, rng.randrange(1, 5000), "A", "G"),
                     "ENSP%011d.1:p.Leu%d%%3D" % (rng.randrange(10**9), rng.randrange(1, 900)),
                     "HGNC:%d" % rng.randrange(1, 50000), "YES" if k == 0 else ""])


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    simple = "--simple" in sys.argv[3:]
    rng = random.Random(20240101)
    chrom_i, pos = 0, 10000
    per_chrom = max(1, n // len(GRCH38) + 1)
    with open(sys.argv[2], "w") as out:
        out.write("\n".join(header(simple)) + "\n")
        for i in range(n):
            if i and i % per_chrom == 0:
                chrom_i, pos = min(chrom_i + 1, len(GRCH38) - 1), 10000
            pos += rng.randrange(1, 400)
            chrom = GRCH38[chrom_i][0]
            ref = BASES[rng.randrange(4)]
            kind = 0 if simple else rng.randrange(100)
            if kind < 65:
                alts = [BASES[(BASES.index(ref) + 1 + rng.randrange(3)) % 4]]
            elif kind < 80:
                if rng.randrange(2):
                    alts = [ref + "".join(BASES[rng.randrange(4)] for _ in range(rng.randrange(1, 6)))]
                else:
                    alts = [ref]
                    ref = ref + "".join(BASES[rng.randrange(4)] for _ in range(rng.randrange(1, 6)))
            elif kind < 90:
                a1 = BASES[(BASES.index(ref) + 1) % 4]
                alts = [a1, BASES[(BASES.index(ref) + 2) % 4]]
            else:
                ref = ref + BASES[rng.randrange(4)]
                alts = ["".join(BASES[rng.randrange(4)] for _ in range(2))]
                if alts[0] == ref:
                    alts[0] = ref[::-1] if ref[::-1] != ref else "NN"
            dp = rng.randrange(10, 200)
            ad = [rng.randrange(0, dp // 2 + 1) for _ in alts]
            ref_ad = max(0, dp - sum(ad))
            afs = ",".join("%.3f" % (a / dp) for a in ad)
            acs = ",".join("1" for _ in alts)
            info = "DP=%d;AF=%s;AC=%s" % (dp, afs, acs)
            if not simple and i % 3 == 0:
                entries = []
                for j, alt in enumerate(alts):
                    vep = alt[1:] if len(alt) != len(ref) and alt[0] == ref[0] else alt
                    if len(alt) != len(ref) and all(a[0] == ref[0] for a in alts):
                        vep = alt[1:] or "-"
                    entries += [csq_entry(rng, vep, k) for k in range(2)]
                info += ";CSQ=" + ",".join(entries)
            if not simple and i % 10 == 0:
                info += ";CLNSIG=%s;CLNREVSTAT=criteria_provided,_single_submitter;ALLELEID=%d" % (
                    CLNSIG[rng.randrange(len(CLNSIG))], rng.randrange(1, 10**6))
            gt = "0/1" if len(alts) == 1 else "1/2"
            if len(alts) == 1 and rng.randrange(5) == 0:
                gt = "1/1"
            rsid = "rs%d" % rng.randrange(1, 10**9) if rng.randrange(3) == 0 else "."
            out.write("%s\t%d\t%s\t%s\t%s\t%d\tPASS\t%s\tGT:AD:DP:GQ\t%s:%s:%d:%d\n" % (
                chrom, pos, rsid, ref, ",".join(alts), rng.randrange(20, 100), info,
                gt, ",".join(str(x) for x in [ref_ad] + ad), dp, rng.randrange(20, 99)))


if __name__ == "__main__":
    main()
