"""The GPU column: TensorRT for the server models.

trtexec_log   parse trtexec's performance summary (TensorRT 8.0 - 11.x)
records       trtexec logs and edgekit's own TensorRT runs as bench records with provenance
prepare       ONNX for TensorRT's parser (audit, int64 outputs, an fp16 strongly typed variant, parity)
model_prep    a zoo model's verified ONNX -> prepared files
trtexec_cmd   the exact trtexec line per model, precision and TensorRT release
trt_runtime   build/cache an engine and time it with CUDA events (needs tensorrt + cuda-bindings + a GPU)
"""
