"""The video domain: resumable uploads, HLS transcoding jobs, signed playback, discovery, analytics."""
