"""Audio: samples -> a speaker, a file or a pipe.

Output devices (PortAudio), the write-based player, decoding kk-play's input
and the sinks kk-synth writes to. May import only the shared contract
(framing, errors): it neither knows text nor the model.
"""
