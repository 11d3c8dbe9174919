"""kk-speakd as a speech-dispatcher output module (sd_kokoro): the module
protocol on stdin/stdout, settings mapped onto ours, and its installation."""
