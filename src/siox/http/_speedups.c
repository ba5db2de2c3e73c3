/* Optional compiled WebSocket masking (RFC 6455 section 5.3) for siox.http._mask.
 *
 * apply_mask(data, key) -> bytes: XOR data with the 4-byte key repeated. The pure-Python
 * version in _mask.py is the fallback and the reference; tests compare both.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static PyObject *
apply_mask(PyObject *module, PyObject *args)
{
    Py_buffer data, key;
    if (!PyArg_ParseTuple(args, "y*y*:apply_mask", &data, &key)) {
        return NULL;
    }
    if (key.len != 4) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_ValueError, "the masking key must be 4 bytes");
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&key);
        return NULL;
    }
    const unsigned char *in = (const unsigned char *)data.buf;
    const unsigned char *k = (const unsigned char *)key.buf;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    Py_ssize_t size = data.len, i = 0;
    uint64_t wide;
    unsigned char pattern[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
    memcpy(&wide, pattern, 8);
    for (; i + 8 <= size; i += 8) {
        uint64_t chunk;
        memcpy(&chunk, in + i, 8);
        chunk ^= wide;
        memcpy(out + i, &chunk, 8);
    }
    for (; i < size; i++) {
        out[i] = in[i] ^ k[i & 3];
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&key);
    return result;
}

static PyMethodDef methods[] = {
    {"apply_mask", apply_mask, METH_VARARGS, "XOR data with the 4-byte key repeated."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "siox.http._speedups", "Optional compiled helpers.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
