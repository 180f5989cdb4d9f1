"""Background Posting: the code every function shares (the layer).

Importing the package moves every object the garbage collector tracks so far (by a handler,
the third-party modules it imported first: botocore's service models, pydantic, powertools)
into the permanent generation (`gc.freeze`). Those objects live as long as the process, and a
full collection would walk them all: at the API's cold start a second one came while our
modules loaded and cost about 90 ms of the 250 ms our import added, and in an invocation one
pauses the request as long. Collections still run; they walk only what came after
(docs/performance.md, cold start).
"""

import gc

gc.freeze()
