"""Writes helgenom_default_v2_input.vcf: helgenom_default_input.vcf (100 records) with the
clinical INFO keys helgenom's default model v2 scores, cycled with co-prime periods so that
every bin of every plugin (and its absence) meets every consequence/AF/model/gate case.

    python make_default_v2_input.py   # in this folder; deterministic
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = """\
##INFO=<ID=GNOMADAF_grpmax,Number=A,Type=Float,Description="gnomAD grpmax AF">
##INFO=<ID=SWEGENAF,Number=A,Type=Float,Description="SweGen AF">
##INFO=<ID=Frq,Number=A,Type=Float,Description="Local frequency">
##INFO=<ID=Obs,Number=A,Type=Integer,Description="Local observations">
##INFO=<ID=CLNSIG,Number=.,Type=String,Description="ClinVar significance">
##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">
##INFO=<ID=CLNVID,Number=1,Type=Integer,Description="ClinVar variation ID">
##INFO=<ID=CADD,Number=A,Type=Float,Description="CADD PHRED">
##INFO=<ID=REVEL_score,Number=A,Type=Float,Description="REVEL">
##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAI \
ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">
"""
CLINVAR = [None, ("Pathogenic", "criteria_provided,_multiple_submitters,_no_conflicts"),
           ("Likely_pathogenic", "criteria_provided,_single_submitter"),
           ("Pathogenic/Likely_pathogenic", "reviewed_by_expert_panel"),
           ("Conflicting_interpretations_of_pathogenicity",
            "criteria_provided,_conflicting_interpretations"),
           ("Uncertain_significance", "criteria_provided,_single_submitter"),
           ("Benign", "reviewed_by_expert_panel"),
           ("Likely_benign", "no_assertion_criteria_provided")]
VALUES = {  # key -> cycle (None: absent)
    "GNOMADAF_grpmax": [None, "0.0002", "0.004", "0.02", "0.3"],
    "SWEGENAF": [None, "0.0005", "0.07", "0.008"],
    "Frq": [None, "0.01", "0.05", "0.2", "0.8", "0.5"],
    "CADD": [None, "4.2", "15", "25.5", "35"],
    "REVEL_score": [None, "0.2", "0.6", "0.9"],
}
SPLICEAI = [None, "G|G0|0.01|0.00|0.05|0.00|1|2|3|4", "G|G0|0.30|0.10|0.00|0.00|1|2|3|4",
            "G|G0|0.00|0.92|0.00|0.00|1|2|3|4,G|G9|0.10|0.00|0.00|0.60|1|2|3|4",
            "T|G0|0.99|0.99|0.99|0.99|1|2|3|4", None, None]


def main() -> None:
    lines = (HERE / "helgenom_default_input.vcf").read_text().splitlines(keepends=True)
    out = []
    n = 0
    for line in lines:
        if line.startswith("#CHROM"):
            out.append(HEADER)
        if line.startswith("#"):
            out.append(line)
            continue
        fields = line.rstrip("\n").split("\t")
        info = [] if fields[7] == "." else fields[7].split(";")
        clin = CLINVAR[n % len(CLINVAR)]
        if clin:
            info += [f"CLNSIG={clin[0]}", f"CLNREVSTAT={clin[1]}", f"CLNVID={1000 + n}"]
        for key, cycle in VALUES.items():
            value = cycle[(n * 3 + len(key)) % len(cycle)]
            if value is not None:
                info.append(f"{key}={value}")
                if key == "Frq":
                    info.append(f"Obs={max(1, round(float(value) * 40))}")
        splice = SPLICEAI[n % len(SPLICEAI)]
        if splice:
            info.append(f"SpliceAI={splice}")
        fields[7] = ";".join(info) or "."
        out.append("\t".join(fields) + "\n")
        n += 1
    (HERE / "helgenom_default_v2_input.vcf").write_text("".join(out))


if __name__ == "__main__":
    main()
