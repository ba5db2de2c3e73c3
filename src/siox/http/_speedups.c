/* Optional compiled WebSocket masking (RFC 6455 section 5.3) for siox.http._mask.
 *
 * apply_mask(data, key) -> bytes: XOR data with the 4-byte key repeated; mask_join(parts, key)
 * the same for a payload that came in pieces; unmask(data, start, end) and
 * unmask_text(data, start, end) the payload data[start:end] of a frame in a read, its key the
 * four bytes before it (as bytes, or decoded as UTF-8 text), without slicing first. The
 * pure-Python versions in _mask.py are the fallbacks and the references; tests compare both.
 *
 * scan_frames(data, masked, limit, events) -> int: the loop of
 * WebSocketConnection._whole_frames over a read's leading whole frames, compiled: it appends a
 * TextMessage / BinaryMessage (the classes given to configure_messages) per whole FIN
 * TEXT/BINARY frame and returns the bytes consumed, stopping before anything else (the Python
 * loop then looks at the rest exactly as it does without this).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
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

/* mask_join(parts, key) -> bytes: apply_mask(b"".join(parts), key) in one pass, without the
 * joined copy: each part is XOR-ed straight into the result, the key's phase carried over. */
static PyObject *
mask_join(PyObject *module, PyObject *args)
{
    PyObject *parts;
    Py_buffer key;
    if (!PyArg_ParseTuple(args, "O!y*:mask_join", &PyList_Type, &parts, &key)) {
        return NULL;
    }
    if (key.len != 4) {
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_ValueError, "the masking key must be 4 bytes");
        return NULL;
    }
    unsigned char k[4];
    memcpy(k, key.buf, 4);
    PyBuffer_Release(&key);
    Py_ssize_t count = PyList_GET_SIZE(parts), total = 0;
    Py_buffer *views = PyMem_Calloc(count ? count : 1, sizeof(Py_buffer));
    if (views == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t got = 0;
    PyObject *result = NULL;
    for (; got < count; got++) {
        /* The list is ours (the caller built it) and holds its items while we read them. */
        if (PyObject_GetBuffer(PyList_GET_ITEM(parts, got), &views[got], PyBUF_SIMPLE) < 0) {
            goto done;
        }
        total += views[got].len;
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (result == NULL) {
        goto done;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    Py_ssize_t at = 0;
    for (Py_ssize_t p = 0; p < count; p++) {
        const unsigned char *in = (const unsigned char *)views[p].buf;
        Py_ssize_t size = views[p].len, i = 0;
        unsigned char pattern[8];
        for (int j = 0; j < 8; j++) {
            pattern[j] = k[(at + j) & 3];
        }
        uint64_t wide;
        memcpy(&wide, pattern, 8);
        for (; i + 8 <= size; i += 8) {
            uint64_t chunk;
            memcpy(&chunk, in + i, 8);
            chunk ^= wide;
            memcpy(out + at + i, &chunk, 8);
        }
        for (; i < size; i++) {
            out[at + i] = in[i] ^ k[(at + i) & 3];
        }
        at += size;
    }
done:
    for (Py_ssize_t p = 0; p < got; p++) {
        PyBuffer_Release(&views[p]);
    }
    PyMem_Free(views);
    return result;
}

static void
xor_key(const unsigned char *in, unsigned char *out, Py_ssize_t size, const unsigned char *k)
{
    Py_ssize_t i = 0;
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
}

/* The (data, start, end) arguments of unmask / unmask_text: data a bytes object, its masking
 * key at data[start - 4:start], the payload data[start:end]. */
static const unsigned char *
frame_payload(PyObject *const *args, Py_ssize_t nargs, const char *name, Py_ssize_t *start,
              Py_ssize_t *size)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "%s() takes 3 arguments (%zd given)", name, nargs);
        return NULL;
    }
    if (!PyBytes_CheckExact(args[0])) {
        PyErr_Format(PyExc_TypeError, "%s() needs bytes", name);
        return NULL;
    }
    Py_ssize_t first = PyLong_AsSsize_t(args[1]);
    if (first == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (first < 4 || end < first || end > PyBytes_GET_SIZE(args[0])) {
        PyErr_Format(PyExc_ValueError, "%s(): no masked payload at [%zd:%zd]", name, first, end);
        return NULL;
    }
    *start = first;
    *size = end - first;
    return (const unsigned char *)PyBytes_AS_STRING(args[0]);
}

static PyObject *
unmask(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t start, size;
    const unsigned char *data = frame_payload(args, nargs, "unmask", &start, &size);
    if (data == NULL) {
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, size);
    if (result != NULL) {
        xor_key(data + start, (unsigned char *)PyBytes_AS_STRING(result), size, data + start - 4);
    }
    return result;
}

static PyObject *
unmask_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t start, size;
    const unsigned char *data = frame_payload(args, nargs, "unmask_text", &start, &size);
    if (data == NULL) {
        return NULL;
    }
    unsigned char small[512];
    unsigned char *plain = size <= (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc(size);
    if (plain == NULL) {
        return PyErr_NoMemory();
    }
    xor_key(data + start, plain, size, data + start - 4);
    /* strict UTF-8: the UnicodeDecodeError bytes.decode("utf-8") would raise */
    PyObject *result = PyUnicode_DecodeUTF8((const char *)plain, size, NULL);
    if (plain != small) {
        PyMem_Free(plain);
    }
    return result;
}

static PyTypeObject *message_types[2] = {NULL, NULL}; /* TextMessage, BinaryMessage */
static Py_ssize_t message_offsets[2];

/* configure_messages(TextMessage, BinaryMessage): read their "data" slots' offsets. */
static PyObject *
configure_messages(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "configure_messages takes the two message classes");
        return NULL;
    }
    Py_ssize_t found[2];
    for (int i = 0; i < 2; i++) {
        if (!PyType_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError, "configure_messages needs classes");
            return NULL;
        }
        PyObject *descr = PyObject_GetAttrString(args[i], "data");
        if (descr == NULL) {
            return NULL;
        }
        if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            Py_DECREF(descr);
            PyErr_SetString(PyExc_TypeError, "data is not a slot of the class");
            return NULL;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
            Py_DECREF(descr);
            PyErr_SetString(PyExc_TypeError, "data is not a writable object slot");
            return NULL;
        }
        found[i] = member->offset;
        Py_DECREF(descr);
    }
    for (int i = 0; i < 2; i++) {
        Py_INCREF(args[i]);
        Py_XSETREF(message_types[i], (PyTypeObject *)args[i]);
        message_offsets[i] = found[i];
    }
    Py_RETURN_NONE;
}

static PyObject *
scan_frames(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "scan_frames takes data, masked, limit, events");
        return NULL;
    }
    if (message_types[0] == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure_messages was not called");
        return NULL;
    }
    if (!PyBytes_CheckExact(args[0]) || !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "scan_frames needs bytes and a list");
        return NULL;
    }
    int masked = PyObject_IsTrue(args[1]);
    if (masked < 0) {
        return NULL;
    }
    Py_ssize_t limit = -1; /* None: no limit */
    if (args[2] != Py_None) {
        limit = PyLong_AsSsize_t(args[2]);
        if (limit == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (limit < 0) {
            PyErr_SetString(PyExc_ValueError, "the limit must be None or >= 0");
            return NULL;
        }
    }
    PyObject *events = args[3];
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t size = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t head = masked ? 6 : 2;
    unsigned char mask_bit = masked ? 0x80 : 0;
    Py_ssize_t position = 0;
    while (size - position >= head) {
        unsigned char first = data[position], second = data[position + 1];
        if ((first != 0x81 && first != 0x82) || (second & 0x80) != mask_bit) {
            break;
        }
        uint64_t length = second & 0x7F;
        Py_ssize_t start = position + head;
        if (length == 126) {
            if (size - position < head + 2) {
                break;
            }
            length = ((uint64_t)data[position + 2] << 8) | data[position + 3];
            start += 2;
        }
        else if (length == 127) {
            if (size - position < head + 8) {
                break;
            }
            length = 0;
            for (int i = 2; i < 10; i++) {
                length = (length << 8) | data[position + i];
            }
            start += 8;
            if (length >> 63) {
                break; /* the general path fails it with 1002 */
            }
        }
        if (limit >= 0 && length > (uint64_t)limit) {
            break;
        }
        if (length > (uint64_t)(size - start)) {
            break; /* not whole in this read: the Python loop decides */
        }
        Py_ssize_t count = (Py_ssize_t)length;
        const unsigned char *payload = data + start;
        PyObject *value;
        int text = first == 0x81;
        if (masked) {
            const unsigned char *key = data + start - 4;
            if (text) {
                unsigned char small[512];
                unsigned char *plain =
                    count <= (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc(count ? count : 1);
                if (plain == NULL) {
                    return PyErr_NoMemory();
                }
                xor_key(payload, plain, count, key);
                value = PyUnicode_DecodeUTF8((const char *)plain, count, NULL);
                if (plain != small) {
                    PyMem_Free(plain);
                }
            }
            else {
                value = PyBytes_FromStringAndSize(NULL, count);
                if (value != NULL) {
                    xor_key(payload, (unsigned char *)PyBytes_AS_STRING(value), count, key);
                }
            }
        }
        else if (text) {
            value = PyUnicode_DecodeUTF8((const char *)payload, count, NULL);
        }
        else {
            value = PyBytes_FromStringAndSize((const char *)payload, count);
        }
        if (value == NULL) {
            if (text && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
                PyErr_Clear();
                break; /* the general path fails it with 1007 */
            }
            return NULL;
        }
        PyTypeObject *type = message_types[text ? 0 : 1];
        PyObject *event = type->tp_alloc(type, 0);
        if (event == NULL) {
            Py_DECREF(value);
            return NULL;
        }
        *(PyObject **)((char *)event + message_offsets[text ? 0 : 1]) = value; /* owned */
        int failed = PyList_Append(events, event);
        Py_DECREF(event);
        if (failed) {
            return NULL;
        }
        position = start + count;
    }
    return PyLong_FromSsize_t(position);
}

static PyMethodDef methods[] = {
    {"apply_mask", apply_mask, METH_VARARGS, "XOR data with the 4-byte key repeated."},
    {"mask_join", mask_join, METH_VARARGS, "apply_mask of the parts joined, in one pass."},
    {"unmask", (PyCFunction)(void (*)(void))unmask, METH_FASTCALL,
     "apply_mask(data[start:end], data[start - 4:start]) without the slices."},
    {"unmask_text", (PyCFunction)(void (*)(void))unmask_text, METH_FASTCALL,
     "unmask(data, start, end).decode('utf-8') without the intermediate bytes."},
    {"configure_messages", (PyCFunction)(void (*)(void))configure_messages, METH_FASTCALL,
     "Read the data slots of TextMessage and BinaryMessage for scan_frames."},
    {"scan_frames", (PyCFunction)(void (*)(void))scan_frames, METH_FASTCALL,
     "Append the messages of a read's leading whole data frames; the bytes consumed."},
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
