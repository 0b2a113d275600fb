/** The anomaly model's memory bank beside model.json (float32 rows, row-major). No TensorFlow here: both sides read it. */
export const ANOMALY_BANK_FILE = 'anomaly-bank.bin';
