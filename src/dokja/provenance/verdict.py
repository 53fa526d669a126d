"""Per-component verdicts: compare a candidate's fingerprint with every library entry, decide each component
against a threshold taken from the null distribution of unrelated pairs, and keep the evidence."""

from __future__ import annotations

import numpy as np

from . import compare as st
from .fingerprint import Fingerprint

STATISTICS = {
    "tokenizer": "merge-order agreement (share of the first merges in the same place)",
    "embeddings": "cosine of held-out shared tokens' embeddings after Procrustes alignment",
    "attention": "share of q/k/v rows with one distinct best match (aligned, norm folded)",
    "mlp": "share of MLP neurons with one distinct best match (gate|up rows, aligned, norm folded)",
    "norms": "mean-centred correlation of norm vectors (raw cosine shown, not decided on)",
    "head": "cosine of held-out shared tokens' output rows after alignment",
    "encoder": "best mean-centred correlation of encoder tensors of the same shape",
}
LABELS_KO = {"tokenizer": "토크나이저", "embeddings": "토큰 임베딩", "attention": "어텐션", "mlp": "MLP",
             "norms": "정규화 벡터", "head": "출력 헤드", "encoder": "인코더", "card": "모델 카드",
             "hashes": "텐서 해시"}


def _finite(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _units(fp: Fingerprint, kind: str) -> dict[int, np.ndarray]:
    return fp.mlp if kind == "mlp" else fp.attn


def measure(cand: Fingerprint, lib: Fingerprint) -> dict[str, dict]:
    """Every statistic of one candidate against one library entry: {component: {value, ...evidence}}."""
    out: dict[str, dict] = {}
    tok = st.order_agreement(cand.order, lib.order)
    out["tokenizer"] = {"value": _finite(tok["positional"]), "prefix": tok["prefix"], "n": tok["n"],
                        "tensors": f"{cand.facts.get('order_kind')} order"}

    alignment = st.align(cand.token_keys, cand.embed, lib.token_keys, lib.embed)
    ci, li = alignment.cand_index, alignment.lib_index
    bases = []  # (name, map for the units, map fitted on the even half for held-out statistics)
    if alignment.rotation is not None:
        bases.append(("Procrustes", alignment.rotation, alignment.fit_rotation))
    if cand.width and cand.width == lib.width:
        eye = np.eye(cand.width, dtype=np.float32)
        bases.append(("identity", eye, eye))
    test = np.arange(len(ci)) % 2 == 1
    basis_score: dict[str, float] = {}
    for comp, rows_c, rows_l, what in (
            ("embeddings", cand.embed, lib.embed, "token embedding rows of shared tokens"),
            ("head", cand.output_rows(), lib.output_rows(), "output head rows of shared tokens, final norm folded")):
        scored = []
        if test.sum() >= 8:
            a, b = st.unit_rows(rows_c[ci][test]), st.unit_rows(rows_l[li][test])
            scored = [(float(np.mean(np.sum(st.unit_rows(a @ fit) * b, 1))), name) for name, _, fit in bases]
        if comp == "embeddings":
            basis_score = {name: value for value, name in scored}
        value, basis = max(scored) if scored else (None, None)
        out[comp] = {"value": _finite(value), "basis": basis, "shared_tokens": int(len(ci)), "tensors": what}
        if comp == "head":
            out[comp]["tied"] = bool(cand.facts.get("tied"))

    # the residual basis the shared tokens' embeddings support best; identity when they say nothing
    if bases:
        bases.sort(key=lambda b: (basis_score.get(b[0], -1.0), b[0] == "identity"), reverse=True)
        bases = bases[:1]
    for kind in ("attention", "mlp"):
        cand_units = _units(cand, "mlp" if kind == "mlp" else "attn")
        lib_units = _units(lib, "mlp" if kind == "mlp" else "attn")
        if not bases or not cand_units or not lib_units:
            out[kind] = {"value": None, "note": "no shared basis (widths differ and too few shared tokens)",
                         "tensors": kind}
            continue
        name, rotation, _ = bases[0]
        pooled = np.vstack([st.rotate_units(u, rotation, cand.width) for u in cand_units.values()])
        m = st.distinct_matches(lib_units, pooled)
        s = st.summarise_matches(m["per_layer"], len(cand_units))
        out[kind] = {"value": _finite(s["fraction"]), "basis": name, "hits": s["hits"], "trials": s["trials"],
                     "library_layers": s["layers"], "median_best_cosine": _finite(m["median_best_cosine"]),
                     "looks": len(lib_units), "layers_sampled": sorted(cand_units),
                     "tensors": ("gate_proj|up_proj rows" if kind == "mlp" else "q_proj, k_proj, v_proj rows")
                     + f" of layers {sorted(cand_units)}"}

    norms = st.norm_similarity(cand.norms, lib.norms)
    out["norms"] = {"value": _finite(norms["centred"]), "raw_cosine": _finite(norms["raw"]), "n": norms["n"],
                    "tensors": "attention, MLP and final norm weights"}
    if norms["n"] == 0:
        out["norms"]["note"] = "constant or folded norms give no evidence"

    for enc, tensors in cand.encoders.items():
        best = []
        for arr in tensors.values():
            sims = [st.tensor_similarity(arr, other) for e in lib.encoders.values() for other in e.values()
                    if np.shape(other) == np.shape(arr)]
            sims = [s for s in sims if np.isfinite(s)]
            if sims:
                best.append(max(sims))
        out[f"encoder:{enc}"] = {"value": float(np.median(best)) if best else None, "n": len(best),
                                 "tensors": f"{len(tensors)} tensors of {enc}"}
    return out


def _identical(cand: Fingerprint, lib: Fingerprint) -> dict[str, list[str]]:
    """Candidate tensors whose stored bytes hash identically to one of the library entry's, by component."""
    known = set(lib.hashes.values())
    encoder_of = {t: enc for enc, tensors in cand.encoders.items() for t in tensors}
    out: dict[str, list[str]] = {}
    for tensor, digest in cand.hashes.items():
        if digest in known:
            comp = f"encoder:{encoder_of[tensor]}" if tensor in encoder_of else (
                "mlp" if "mlp" in tensor or "ffn" in tensor else "attention")
            out.setdefault(comp, []).append(tensor)
    return out


def _declared(cand: Fingerprint, library: list[Fingerprint]) -> dict | None:
    base = cand.facts.get("base_model")
    if not base:
        return None
    bases = [base] if isinstance(base, str) else [str(b) for b in base]
    for b in bases:
        for lib in library:
            aliases = [lib.name.lower(), *[str(a).lower() for a in lib.facts.get("aliases", [])]]
            if any(a and (a in b.lower() or b.lower().endswith(a)) for a in aliases):
                return {"source": lib.name, "base_model": b}
    return {"source": bases[0], "base_model": bases[0]}


def check(cand: Fingerprint, library: list[Fingerprint], null: dict[str, dict]) -> dict:
    """The verdict: per component the closest library entry, the similarity, the threshold and its null."""
    if not library:
        from .errors import ProvenanceError

        raise ProvenanceError("the provenance library is empty; add an entry with `dokja provenance add`")
    per_entry = {lib.name: measure(cand, lib) for lib in library}
    identical = {lib.name: _identical(cand, lib) for lib in library}
    components = []
    names = list(next(iter(per_entry.values())).keys())
    for comp in names:
        kind = comp.split(":")[0]
        ref = null.get(kind, {})
        thr = ref.get("threshold")
        scored = [(e[comp]["value"], name) for name, e in per_entry.items() if e.get(comp, {}).get("value") is not None]
        value, source = max(scored) if scored else (None, None)
        evidence = dict(per_entry[source][comp]) if source else {"tensors": per_entry[library[0].name][comp]["tensors"]}
        copied = [(name, hits[comp]) for name, hits in identical.items() if comp in hits]
        derived = value is not None and thr is not None and value >= thr
        note = evidence.pop("note", "")
        if copied:
            derived, source = True, copied[0][0]
            note = "; ".join(x for x in (note, f"{len(copied[0][1])} tensor(s) byte-identical to {source}") if x)
        if kind in ("attention", "mlp") and value is not None and evidence.get("trials"):
            evidence["p_value"] = st.match_pvalue(evidence["hits"], evidence["trials"], ref.get("mean", 0.05),
                                                  evidence.get("looks", 1))
        if kind == "encoder":
            enc_name = comp.split(":", 1)[1]
            etype = next((t for k, t in cand.facts.get("encoder_types", {}).items()
                          if enc_name == k or enc_name.startswith(k + "_")), None)
            same = [lib.name for lib in library if etype and etype in lib.facts.get("encoder_types", {}).values()]
            if etype:
                note = "; ".join(x for x in (note, f"config names model type {etype!r}"
                                             + (f", as {', '.join(same)}" if same else "")) if x)
        components.append({"component": comp, "label_ko": LABELS_KO.get(kind, kind),
                           "verdict": "derived" if derived else "independent",
                           "source": source if derived else None, "closest": source,
                           "value": value, "threshold": thr, "statistic": STATISTICS.get(kind, kind),
                           "null": {k: ref.get(k) for k in ("n", "mean", "sd", "max", "sources")},
                           "by_entry": {name: e[comp]["value"] for name, e in per_entry.items() if comp in e},
                           "note": note, **{k: v for k, v in evidence.items() if k != "value"}})
    declared = _declared(cand, library)
    if declared:
        components.append({"component": "card", "label_ko": LABELS_KO["card"], "verdict": "derived",
                           "source": declared["source"], "closest": declared["source"], "value": None,
                           "threshold": None, "statistic": "model card base_model", "null": {},
                           "tensors": "model card", "note": f"base_model: {declared['base_model']}"
                           + (f"; licence: {cand.facts['licence']}" if cand.facts.get("licence") else "")})
    derived = [c for c in components if c["verdict"] == "derived"]
    sources = sorted({c["source"] for c in derived})
    summary = (f"derived from {', '.join(sources)} ({', '.join(c['component'] for c in derived)})"
               if derived else "independent")
    return {"model": cand.name, "passed": not derived, "summary": summary, "components": components,
            "library": [lib.name for lib in library], "facts": cand.facts}
