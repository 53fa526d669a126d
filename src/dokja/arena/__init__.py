"""The public arena: battles, votes and ratings."""

from .bootstrap import bootstrap
from .cells import Cells, aggregate
from .ratings import SCALE, Fit, Intervals, arena_ridge_alpha, fit, ranks, sandwich, sandwich_cov, to_rating
from .errors import ArenaError
from .leaderboard import FlagEffect, Leaderboard, Row, VoteRecord, compute_leaderboard, flag_effects, leaderboard_json
from .export import read_votes, votes_to_csv, votes_to_jsonl, write_votes
from .categories import classify
from .style import style_features
from .identity import reveals_identity
from .pairing import draw_pair, pair_probabilities, vote_weight
from .honesty import (RULES_EN, RULES_KO, PromptFlood, fisher, flag_favourites, flag_subnets, flag_visitors,
                      prompt_flood, vote_pvalues)
from .points import credited_ratings, user_points
from .support import Support, parts, support

__all__ = ["SCALE", "Cells", "Fit", "Intervals", "aggregate", "arena_ridge_alpha", "bootstrap", "fit", "ranks",
           "sandwich", "sandwich_cov", "to_rating", "Support", "parts", "support", "credited_ratings",
           "ArenaError", "Leaderboard", "Row", "VoteRecord", "compute_leaderboard", "leaderboard_json",
           "read_votes", "votes_to_csv", "votes_to_jsonl", "write_votes", "classify", "style_features",
           "reveals_identity", "draw_pair", "pair_probabilities", "vote_weight", "RULES_EN", "RULES_KO",
           "PromptFlood", "fisher", "flag_favourites", "flag_subnets", "flag_visitors", "prompt_flood", "vote_pvalues",
           "user_points", "FlagEffect", "flag_effects"]
