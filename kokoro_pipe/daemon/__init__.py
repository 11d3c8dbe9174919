"""The daemon: kk-speakd, a warm pipeline on a named pipe.

The FIFO, its requests and commands, the queue with its synthesis and audio
threads, the speaker, the log and status, and the service files. Sits on top:
may import text/, voice/ and audio/.
"""
