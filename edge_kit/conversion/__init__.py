"""The conversion pipeline: source -> Paddle reference -> Paddle-Lite .nb / ONNX -> TFLite, each artifact
verified against the reference and described by a manifest.

    run           convert(): checks the request, runs the .nb chain and the ONNX -> TFLite chain, publishes
    stages        Pipeline: the reference and the fp32/fp16 stages, each cached by content and verified
    int8_stages   the int8 stages (full-integer TFLite, Paddle PTQ -> int8 .nb)
    zoo_export    the child that builds a zoo model and exports it to a Paddle program (+ reference outputs)
    sources       where a conversion starts: a zoo model, a user's Paddle export, an ONNX file
    graphs        which graph (deploy / raw) each format carries
    cache         the content-addressed cache of stages
    fingerprint   the code fingerprint that is part of every cache key

The tools themselves (Opt, paddle2onnx, onnx2tf, Paddle Inference) are wrapped by the `converters`
package, a leaf that imports nothing from edge_kit; its `child_*` functions run in a child process
(converters.isolate.run_isolated). This package's __init__ imports nothing: child processes import
edge_kit.conversion.zoo_export by name and should not pay for the rest.
"""
