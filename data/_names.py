"""Danish-sounding synthetic names and made-up providers. No real person is meant."""

from __future__ import annotations

import numpy as np
import polars as pl


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE = _words(
    """
    Anne Mette Hanne Susanne Lene Marianne Camilla Louise Charlotte Maria Pia Tina Helle Julie
    Sofie Ida Emma Signe Katrine Cecilie Line Stine Trine Maja Sara Nanna Rikke Malene Karina
    Dorte Birgitte Lotte Mia Astrid Freja Laura Christina Anja Gitte Jette Karen Lise Tove
    Vibeke Mathilde Amalie Josefine Nadia Ayse Fatima Bodil Inge Ulla
    """
)
MALE = _words(
    """
    Peter Jens Lars Michael Henrik Thomas Søren Jan Niels Martin Anders Rasmus Jesper Morten
    Mads Mikkel Christian Kasper Jakob Frederik Jonas Simon Emil Oliver Magnus Tobias Kim Ole
    Torben Bo Claus Brian Ali Omar Kristian Steen Poul Erik Karsten Allan
    """
)
SURNAMES = _words(
    """
    Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen
    Petersen Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen
    Knudsen Jakobsen Mikkelsen Frederiksen Laursen Henriksen Lund Schmidt Eriksen Holm
    Kristiansen Clausen Simonsen Svendsen Andreasen Iversen Jeppesen Mogensen Jacobsen Nissen
    Bertelsen Lauridsen Kjær Dahl Bach Friis Vestergaard Skov Lindberg Bruun Winther Juhl Brandt
    Krogh Berg Dam Bang Toft Ravn Storm Holst Østergaard Nørgaard Kaya Yilmaz Hussein Abdi Nowak
    """
)

PROVIDERS: dict[str, tuple[str, ...]] = {
    "opholdssted": (
        "Opholdsstedet Solsikken",
        "Opholdsstedet Kastanjegården",
        "Opholdsstedet Fyrtårnet",
        "Opholdsstedet Egebo",
        "Opholdsstedet Lærkereden",
        "Opholdsstedet Bakkehuset",
    ),
    "doegninstitution": (
        "Børne- og ungehjemmet Skovbo",
        "Døgninstitutionen Søhusene",
        "Børnehjemmet Lindely",
        "Ungehjemmet Strandvejen",
    ),
    "sikret": ("Sikret afdeling Nordlyset", "Sikret institution Bakkely"),
    "forebyggende": (
        "Familiehuset (kommunalt)",
        "Kontaktpersonkorpset (kommunalt)",
        "Ungecentret (kommunalt)",
        "Familiebehandling Nord ApS",
        "Støttekompagniet ApS",
        "Aflastningshjemmet Birkely",
    ),
}

_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})


def person_names(rng: np.random.Generator, n: int, female_share: float) -> list[str]:
    female = rng.random(n) < female_share
    fi = rng.integers(0, len(FEMALE), n)
    mi = rng.integers(0, len(MALE), n)
    s1 = rng.integers(0, len(SURNAMES), n)
    s2 = rng.integers(0, len(SURNAMES), n)
    double = rng.random(n) < 0.12
    out = []
    for i in range(n):
        first = FEMALE[fi[i]] if female[i] else MALE[mi[i]]
        last = SURNAMES[s1[i]]
        if double[i] and s2[i] != s1[i]:
            last = f"{SURNAMES[s2[i]]} {last}"
        out.append(f"{first} {last}")
    return out


def emails(names: pl.Series, domains: pl.Series) -> pl.Series:
    """fornavn.efternavn@domain, lower-case ASCII, with 2, 3, … appended to repeats."""
    parts = names.str.to_lowercase().map_elements(lambda s: s.translate(_ASCII), return_dtype=pl.String)
    local = parts.str.split(" ").map_elements(lambda p: f"{p[0]}.{p[-1]}", return_dtype=pl.String)
    frame = pl.DataFrame({"local": local, "domain": domains}).with_columns(
        n=pl.int_range(pl.len()).over("local", "domain") + 1
    )
    return frame.select(
        pl.concat_str(
            "local",
            pl.when(pl.col("n") > 1).then(pl.col("n").cast(pl.String)).otherwise(pl.lit("")),
            pl.lit("@"),
            "domain",
        )
    ).to_series()
