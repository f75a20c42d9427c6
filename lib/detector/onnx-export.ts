/**
 * Write a trained tfjs layers model (the project's AEs and VAEs) to an ONNX file, so the detector can run in
 * onnxruntime (Node, Python, C++, C#, edge boxes). The model's NHWC image input stays its interface: the graph
 * transposes to NCHW once after the input and back once before each output.
 *
 * Outputs: `reconstruction` (NHWC, like the tfjs model), and the layers the feature density reads (lib/features
 * featureSpec): every encoder block `enc1…encN` (NHWC) and, for a VAE, `z_mean`. Layers covered: InputLayer,
 * Conv2D and Conv2DTranspose ("same" or "valid", any stride; linear / relu / sigmoid / tanh activations),
 * BatchNormalization (inference: moving statistics), LeakyReLU, ReLU, Flatten, Dense, Reshape, and the VAE's
 * sampling layer (the mean at inference). Any other layer is an error that names it.
 *
 *   import { exportOnnx } from "../dist/lib/detector";
 *   fs.writeFileSync("models/wells-ae/model.onnx", exportOnnx(model));
 *
 * Written here because no package converts tfjs layers models to ONNX in JavaScript (tf2onnx is Python and needs
 * TensorFlow); the file format comes from `onnx-proto` (the ONNX protobuf schema for protobufjs).
 */
import type * as tf from "@tensorflow/tfjs";
import { onnx } from "onnx-proto";
import * as fs from "node:fs";
import { writeFileAtomic } from "../common/atomic";
import { featureSpec, reconstructWithFeatures } from "./features";
import { onnxAvailable, OnnxRunner } from "./onnx-runtime";
import { mulberry32 } from "../common/random";

export const ONNX_FILE = "model.onnx";
const ONNX_OPSET = 13;

interface Tensor4Layout {
  name: string;
  /** 4-D tensors live in NCHW inside the graph; 2-D ones are plain. */
  rank: number;
}

class GraphBuilder {
  nodes: onnx.INodeProto[] = [];
  initializers: onnx.ITensorProto[] = [];
  private n = 0;
  fresh(base: string) {
    return `${base}__${this.n++}`;
  }
  node(op: string, inputs: string[], output: string, attrs: Record<string, number | number[] | string> = {}) {
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) =>
      typeof v === "string"
        ? { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
        : Array.isArray(v)
          ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
          : Number.isInteger(v) && !["alpha", "epsilon", "beta"].includes(name)
            ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v }
            : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v },
    );
    this.nodes.push({ opType: op, input: inputs, output: [output], name: this.fresh(op), attribute });
    return output;
  }
  constant(name: string, dims: number[], values: Float32Array | number[], type: "float" | "int64" = "float") {
    const raw =
      type === "float"
        ? new Uint8Array(Float32Array.from(values).buffer)
        : new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
    this.initializers.push({
      name,
      dims,
      dataType: type === "float" ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
      rawData: raw,
    });
    return name;
  }
}

/** Permute a row-major array of `shape` by `perm` (out dim i = in dim perm[i]). */
function permute(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = data[src];
    for (let d = perm.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** TF's "same"/"valid" padding as ONNX pads [top, left, bottom, right] for a forward convolution. */
function convPads(inH: number, inW: number, k: number[], s: number[], padding: string): number[] {
  if (padding === "valid") return [0, 0, 0, 0];
  const total = [inH, inW].map((n, i) => Math.max((Math.ceil(n / s[i]) - 1) * s[i] + k[i] - n, 0));
  return [
    Math.floor(total[0] / 2),
    Math.floor(total[1] / 2),
    total[0] - Math.floor(total[0] / 2),
    total[1] - Math.floor(total[1] / 2),
  ];
}

function activation(g: GraphBuilder, act: string | undefined, x: string, out: string): string {
  switch (act ?? "linear") {
    case "linear":
      return g.node("Identity", [x], out);
    case "relu":
      return g.node("Relu", [x], out);
    case "sigmoid":
      return g.node("Sigmoid", [x], out);
    case "tanh":
      return g.node("Tanh", [x], out);
    default:
      throw new Error(`exportOnnx: activation "${act}" is not supported`);
  }
}

/** The ONNX model (protobuf bytes) of a tfjs layers model with one NHWC image input. */
export function exportOnnx(model: tf.LayersModel, options: { producer?: string } = {}): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new Error(
      `exportOnnx: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; ` +
        "one of each is supported",
    );
  const [, H, W, C] = model.inputs[0].shape as number[];
  const g = new GraphBuilder();
  const tensors = new Map<string, Tensor4Layout & { shape: number[] }>();
  const inLayer = model.layers[0];
  g.node("Transpose", ["image"], `${inLayer.name}__nchw`, { perm: [0, 3, 1, 2] });
  tensors.set(inLayer.name, { name: `${inLayer.name}__nchw`, rank: 4, shape: [C, H, W] });
  for (const layer of model.layers.slice(1)) {
    const cls = layer.getClassName();
    const inbound = (
      layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }
    ).inboundNodes[0].inboundLayers.map((l) => tensors.get(l.name));
    if (inbound.some((t) => !t))
      throw new Error(`exportOnnx: layer ${layer.name} reads a layer not exported before it`);
    const x = inbound[0]!;
    const cfg = layer.getConfig() as Record<string, unknown>;
    const weights = layer.getWeights().map((w) => ({ data: w.dataSync() as Float32Array, shape: w.shape as number[] }));
    const out = `${layer.name}__out`; // graph-internal name (the outputs get the plain names)
    let shape: number[];
    let rank = x.rank;
    switch (cls) {
      case "Conv2D":
      case "Conv2DTranspose": {
        if (cfg.dataFormat && cfg.dataFormat !== "channelsLast")
          throw new Error(`exportOnnx: ${layer.name}: only channelsLast convolutions are supported`);
        const k = cfg.kernelSize as number[],
          s = cfg.strides as number[],
          pad = cfg.padding as string;
        const dil = (cfg.dilationRate as number[] | number | undefined) ?? 1;
        if ((Array.isArray(dil) ? dil : [dil]).some((d) => d !== 1))
          throw new Error(`exportOnnx: ${layer.name}: dilation is not supported`);
        const [kernel, bias] = weights;
        const [inC, inH, inW] = x.shape;
        const outC = cfg.filters as number;
        // tfjs kernels: conv [kh, kw, in, out] → ONNX [out, in, kh, kw];
        // transposed [kh, kw, out, in] → ONNX [in, out, kh, kw]
        const w = g.constant(
          `${out}__W`,
          cls === "Conv2D" ? [outC, inC, k[0], k[1]] : [inC, outC, k[0], k[1]],
          permute(kernel.data, kernel.shape, [3, 2, 0, 1]),
        );
        const inputs = [x.name, w, ...(bias ? [g.constant(`${out}__B`, [outC], bias.data)] : [])];
        let outH: number, outW: number;
        const conv = g.fresh(`${out}__conv`);
        if (cls === "Conv2D") {
          const pads = convPads(inH, inW, k, s, pad);
          outH = pad === "same" ? Math.ceil(inH / s[0]) : Math.floor((inH - k[0]) / s[0]) + 1;
          outW = pad === "same" ? Math.ceil(inW / s[1]) : Math.floor((inW - k[1]) / s[1]) + 1;
          g.node("Conv", inputs, conv, { kernel_shape: k, strides: s, pads, dilations: [1, 1], group: 1 });
        } else {
          outH = pad === "same" ? inH * s[0] : (inH - 1) * s[0] + k[0];
          outW = pad === "same" ? inW * s[1] : (inW - 1) * s[1] + k[1];
          const total = [(inH - 1) * s[0] + k[0] - outH, (inW - 1) * s[1] + k[1] - outW];
          const before = total.map((t) => Math.max(0, Math.floor(t / 2)));
          const after = total.map((t, i) => Math.max(0, t - before[i]));
          const outputPadding = total.map((t) => Math.max(0, -t));
          g.node("ConvTranspose", inputs, conv, {
            kernel_shape: k,
            strides: s,
            pads: [before[0], before[1], after[0], after[1]],
            output_padding: outputPadding,
            dilations: [1, 1],
            group: 1,
          });
        }
        activation(g, cfg.activation as string, conv, out);
        shape = [outC, outH, outW];
        break;
      }
      case "BatchNormalization": {
        const axis = cfg.axis as number | number[];
        if (
          !(
            axis === -1 ||
            axis === 3 ||
            (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))
          ) ||
          x.rank !== 4
        )
          throw new Error(`exportOnnx: ${layer.name}: only channel-axis BatchNormalization of 4-D maps is supported`);
        const c = x.shape[0];
        let i = 0;
        const gamma = cfg.scale === false ? new Float32Array(c).fill(1) : weights[i++].data;
        const beta = cfg.center === false ? new Float32Array(c) : weights[i++].data;
        const mean = weights[i++].data,
          variance = weights[i++].data;
        g.node(
          "BatchNormalization",
          [
            x.name,
            g.constant(`${out}__scale`, [c], gamma),
            g.constant(`${out}__bias`, [c], beta),
            g.constant(`${out}__mean`, [c], mean),
            g.constant(`${out}__var`, [c], variance),
          ],
          out,
          { epsilon: (cfg.epsilon as number) ?? 1e-3 },
        );
        shape = x.shape;
        break;
      }
      case "LeakyReLU":
        g.node("LeakyRelu", [x.name], out, { alpha: (cfg.alpha as number) ?? 0.3 });
        shape = x.shape;
        break;
      case "ReLU":
        g.node("Relu", [x.name], out);
        shape = x.shape;
        break;
      case "Activation":
        activation(g, cfg.activation as string, x.name, out);
        shape = x.shape;
        break;
      case "Flatten": {
        // tfjs flattens NHWC: go back to NHWC first
        const nhwc =
          x.rank === 4 ? g.node("Transpose", [x.name], g.fresh(`${out}__nhwc`), { perm: [0, 2, 3, 1] }) : x.name;
        g.node("Flatten", [nhwc], out, { axis: 1 });
        shape = [x.shape.reduce((a, b) => a * b, 1)];
        rank = 2;
        break;
      }
      case "Dense": {
        if (x.rank !== 2) throw new Error(`exportOnnx: ${layer.name}: Dense on a ${x.rank}-D input is not supported`);
        const [kernel, bias] = weights;
        const units = cfg.units as number;
        const mm = g.node(
          "MatMul",
          [x.name, g.constant(`${out}__W`, kernel.shape, kernel.data)],
          g.fresh(`${out}__mm`),
        );
        const biased = bias
          ? g.node("Add", [mm, g.constant(`${out}__B`, [units], bias.data)], g.fresh(`${out}__add`))
          : mm;
        activation(g, cfg.activation as string, biased, out);
        shape = [units];
        break;
      }
      case "Reshape": {
        const target = cfg.targetShape as number[];
        if (target.length !== 3)
          throw new Error(`exportOnnx: ${layer.name}: only reshapes to H×W×C maps are supported`);
        const r = g.node(
          "Reshape",
          [x.name, g.constant(`${out}__shape`, [4], [-1, ...target], "int64")],
          g.fresh(`${out}__nhwc`),
        );
        g.node("Transpose", [r], out, { perm: [0, 3, 1, 2] });
        shape = [target[2], target[0], target[1]];
        rank = 4;
        break;
      }
      case "VaeSampling":
        g.node("Identity", [x.name], out); // the mean at inference
        shape = x.shape;
        break;
      default:
        throw new Error(`exportOnnx: layer ${layer.name} (${cls}) is not supported`);
    }
    tensors.set(layer.name, { name: out, rank, shape });
  }
  const info = (name: string, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
  const outputs: onnx.IValueInfoProto[] = [];
  const exportOut = (layerName: string, as: string) => {
    const t = tensors.get(layerName)!;
    if (t.rank === 4) {
      g.node("Transpose", [t.name], as, { perm: [0, 2, 3, 1] });
      outputs.push(info(as, ["N", t.shape[1], t.shape[2], t.shape[0]]));
    } else {
      g.node("Identity", [t.name], as);
      outputs.push(info(as, ["N", ...t.shape]));
    }
  };
  const last = model.layers[model.layers.length - 1].name;
  exportOut(last, "reconstruction");
  for (const p of featureSpec(model).parts.slice(1)) exportOut(p.layer, `feature:${p.layer}`);
  const modelProto: onnx.IModelProto = {
    irVersion: 7,
    producerName: options.producer ?? "bayes-autoencoder-notebooks lib/onnx-export",
    opsetImport: [{ domain: "", version: ONNX_OPSET }],
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [info("image", ["N", H, W, C])],
      output: outputs,
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(modelProto)).finish();
}

/**
 * Export, then run the file in onnxruntime on a few random images and compare with tfjs (reconstruction and every
 * feature output); the file is written (atomically) only when they agree within `tolerance`, else it is an error.
 * Without onnxruntime here the file is written unchecked, and `checked` says so.
 */
export async function writeOnnxChecked(
  model: tf.LayersModel,
  file: string,
  tolerance = 1e-4,
): Promise<{ maxDiff: number; images: number; checked: boolean }> {
  const bytes = exportOnnx(model);
  const shape = model.inputs[0].shape.slice(1) as [number, number, number];
  const images = 4;
  if (!onnxAvailable().ok) {
    writeFileAtomic(file, bytes);
    return { maxDiff: NaN, images: 0, checked: false };
  }
  const tmp = `${file}.${process.pid}.check.tmp`;
  writeFileAtomic(tmp, bytes);
  try {
    const r = mulberry32(7);
    const rand = Float32Array.from({ length: images * shape[0] * shape[1] * shape[2] }, () => r());
    const runner = await OnnxRunner.open(tmp, featureSpec(model), { threads: 1 });
    const a = await runner.run(rand, shape, { border: 0.25 });
    await runner.close();
    const b = await reconstructWithFeatures(model, rand, shape, { border: 0.25 });
    let maxDiff = 0;
    a.reconstructions.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - b.reconstructions[i]))));
    a.features!.data.forEach(
      (v, i) =>
        (maxDiff = Math.max(maxDiff, Math.abs(v - b.features.data[i]) / Math.max(1, Math.abs(b.features.data[i])))),
    );
    if (!(maxDiff <= tolerance))
      throw new Error(`exportOnnx: the ONNX model differs from tfjs by ${maxDiff} (> ${tolerance}); not written`);
    fs.renameSync(tmp, file);
    return { maxDiff, images, checked: true };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
