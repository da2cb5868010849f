"""Ads: campaigns, review, in-feed delivery with pacing and frequency caps, impressions, clicks, reports."""
