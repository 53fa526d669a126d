"""The public arena: battles, votes and ratings."""

from .bootstrap import bootstrap
from .cells import Cells, aggregate
from .ratings import SCALE, Fit, Intervals, fit, ranks, sandwich, sandwich_cov, to_rating
from .errors import ArenaError
from .leaderboard import Leaderboard, Row, VoteRecord, compute_leaderboard, leaderboard_json
from .export import read_votes, votes_to_csv, votes_to_jsonl, write_votes
from .categories import classify
from .style import style_features
from .identity import reveals_identity
from .pairing import draw_pair, pair_probabilities, vote_weight
from .honesty import RULES_EN, RULES_KO, PromptFlood, fisher, flag_visitors, prompt_flood, vote_pvalues
from .points import user_points

__all__ = ["SCALE", "Cells", "Fit", "Intervals", "aggregate", "bootstrap", "fit", "ranks", "sandwich",
           "sandwich_cov", "to_rating",
           "ArenaError", "Leaderboard", "Row", "VoteRecord", "compute_leaderboard", "leaderboard_json",
           "read_votes", "votes_to_csv", "votes_to_jsonl", "write_votes", "classify", "style_features",
           "reveals_identity", "draw_pair", "pair_probabilities", "vote_weight", "RULES_EN", "RULES_KO",
           "PromptFlood", "fisher", "flag_visitors", "prompt_flood", "vote_pvalues", "user_points"]
