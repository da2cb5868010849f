"""The social domain's rules: posts, comments, the graph, feeds, reports and moderation."""
