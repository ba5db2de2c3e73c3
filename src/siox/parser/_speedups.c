/* Optional compiled helpers for siox.parser: packet construction and the default parser's
 * fast paths.
 *
 * Packets. `Packet` is a frozen slotted dataclass: Python fills its four slots through their
 * descriptors' __set__, one call each, which is most of what building a packet costs. Once
 * `configure(cls, names)` has read the slots' offsets from the class's member descriptors,
 * `fill(obj, a, b, c, d)` stores the four values in one call and `new(a, b, c, d)` allocates an
 * instance and fills it.
 *
 * Parser. `configure_parser(...)` hands over the objects the parser's rules name (the packet
 * types, the reserved event names, the JSON `default` hook, the pure `reconstruct`, the
 * InvalidPacket class). A `Codec` holds one orjson backend's functions and depth limit; its
 * `encode` and `parse` are the compiled versions of the fast branches of
 * `Parser.encode_fields` and `Parser.parse_text` (siox/parser/default.py): they answer the
 * usual main-namespace EVENT/ACK and return None for anything else, errors included, so that
 * the Python general path gives every unusual answer and every exception message itself.
 * `reconstruct(data, attachments)` is binary.reconstruct for the exact lists and dicts a JSON
 * decoder builds (other containers go to the pure function).
 *
 * The pure-Python versions are the fallbacks and the references; tests compare both.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

static PyTypeObject *packet_type = NULL;
static Py_ssize_t offsets[4];

/* configure_parser: the packet types by number, the reserved event names, jsonbackend's
 * `_default`, the binary types tuple, the pure reconstruct, InvalidPacket */
static PyObject *ptypes[7];
static PyObject *reserved = NULL;
static PyObject *default_hook = NULL;
static PyObject *binary_types = NULL;
static PyObject *pure_reconstruct = NULL;
static PyObject *invalid_packet = NULL;
static PyObject *str_placeholder = NULL; /* "_placeholder" */
static PyObject *str_num = NULL;         /* "num" */
static PyObject *str_slash = NULL;       /* "/" */

#define MAX_ACK_ID 9007199254740991LL /* 2**53 - 1 */
#define EVENT 2
#define ACK 3
#define BINARY_EVENT 5
#define BINARY_ACK 6

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *cls, *names;
    if (!PyArg_ParseTuple(args, "O!O!:configure", &PyType_Type, &cls, &PyTuple_Type, &names)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(names) != 4) {
        PyErr_SetString(PyExc_ValueError, "configure needs the four slot names");
        return NULL;
    }
    Py_ssize_t found[4];
    for (int i = 0; i < 4; i++) {
        PyObject *descr = PyObject_GetAttr(cls, PyTuple_GET_ITEM(names, i));
        if (descr == NULL) {
            return NULL;
        }
        if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            Py_DECREF(descr);
            PyErr_SetString(PyExc_TypeError, "not a slot of the class");
            return NULL;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
            Py_DECREF(descr);
            PyErr_SetString(PyExc_TypeError, "not a writable object slot");
            return NULL;
        }
        found[i] = member->offset;
        Py_DECREF(descr);
    }
    Py_INCREF(cls);
    Py_XSETREF(packet_type, (PyTypeObject *)cls);
    memcpy(offsets, found, sizeof(offsets));
    Py_RETURN_NONE;
}

static void
store(PyObject *obj, PyObject *const *values)
{
    for (int i = 0; i < 4; i++) {
        PyObject **slot = (PyObject **)((char *)obj + offsets[i]);
        Py_INCREF(values[i]);
        Py_XSETREF(*slot, values[i]);
    }
}

static PyObject *
fill(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "fill takes the object and four values");
        return NULL;
    }
    if (packet_type == NULL || !PyObject_TypeCheck(args[0], packet_type)) {
        PyErr_SetString(PyExc_TypeError, "fill needs an instance of the configured class");
        return NULL;
    }
    store(args[0], args + 1);
    Py_RETURN_NONE;
}

static PyObject *
new_packet(PyObject *const *values)
{
    PyObject *obj = packet_type->tp_alloc(packet_type, 0);
    if (obj != NULL) {
        store(obj, values);
    }
    return obj;
}

static PyObject *
new(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "new takes four values");
        return NULL;
    }
    if (packet_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure was not called");
        return NULL;
    }
    return new_packet(args);
}

/* Packet.__init__(self, type, nsp="/", data=None, id=None), as the Python one in packet.py */
static PyObject *field_names[4];

static PyObject *
packet_init(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *values[4] = {NULL, str_slash, Py_None, Py_None};
    int given[4] = {0, 0, 0, 0};
    /* CPython's order: positionals, then keywords (unexpected, repeated), then too many
     * positionals, then missing ones */
    for (Py_ssize_t i = 0; i < nargs && i < 4; i++) {
        values[i] = args[i];
        given[i] = 1;
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        int index = -1;
        for (int i = 0; i < 4 && index < 0; i++) {
            if (name == field_names[i]) {
                index = i;
            }
        }
        for (int i = 0; i < 4 && index < 0; i++) {
            int equal = PyObject_RichCompareBool(name, field_names[i], Py_EQ);
            if (equal < 0) {
                return NULL;
            }
            if (equal) {
                index = i;
            }
        }
        if (index < 0) {
            PyErr_Format(PyExc_TypeError,
                         "Packet.__init__() got an unexpected keyword argument '%S'", name);
            return NULL;
        }
        if (given[index]) {
            PyErr_Format(PyExc_TypeError,
                         "Packet.__init__() got multiple values for argument '%S'", name);
            return NULL;
        }
        values[index] = args[nargs + k];
        given[index] = 1;
    }
    if (nargs > 4) {
        PyErr_Format(PyExc_TypeError,
                     "Packet.__init__() takes from 2 to 5 positional arguments but %zd were given",
                     nargs + 1);
        return NULL;
    }
    if (values[0] == NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "Packet.__init__() missing 1 required positional argument: 'type'");
        return NULL;
    }
    store(self, values);
    Py_RETURN_NONE;
}

static PyMethodDef packet_init_def = {
    "__init__", (PyCFunction)(void (*)(void))packet_init, METH_FASTCALL | METH_KEYWORDS,
    "__init__($self, /, type, nsp='/', data=None, id=None)\n--\n\n"
    "Fill the four fields (compiled).",
};

/* Packet(...) itself: allocate and fill, as type.__call__ would through object.__new__ and
 * the __init__ above, without the argument tuple and the slot lookups. */
static PyObject *
packet_vectorcall(PyObject *type, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (type != (PyObject *)packet_type) {
        /* an earlier Packet class (its module reloaded): type.__call__ as usual */
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
        PyObject *tuple = PyTuple_New(nargs);
        PyObject *kwargs = nkw ? PyDict_New() : NULL;
        PyObject *result = NULL;
        if (tuple != NULL && (nkw == 0 || kwargs != NULL)) {
            for (Py_ssize_t i = 0; i < nargs; i++) {
                Py_INCREF(args[i]);
                PyTuple_SET_ITEM(tuple, i, args[i]);
            }
            int failed = 0;
            for (Py_ssize_t k = 0; k < nkw && !failed; k++) {
                failed = PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, k), args[nargs + k]);
            }
            if (!failed) {
                result = PyType_Type.tp_call(type, tuple, kwargs);
            }
        }
        Py_XDECREF(tuple);
        Py_XDECREF(kwargs);
        return result;
    }
    PyObject *obj = packet_type->tp_alloc(packet_type, 0);
    if (obj == NULL) {
        return NULL;
    }
    PyObject *done = packet_init(obj, args, PyVectorcall_NARGS(nargsf), kwnames);
    if (done == NULL) {
        Py_DECREF(obj);
        return NULL;
    }
    Py_DECREF(done);
    return obj;
}

/* install_init() -> None: the compiled Packet.__init__ (a method descriptor of the configured
 * class, for subclasses and explicit calls) and the class's vectorcall. */
static PyObject *
install_init(PyObject *module, PyObject *unused)
{
    if (packet_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure was not called");
        return NULL;
    }
    if (field_names[0] == NULL) {
        const char *names[4] = {"type", "nsp", "data", "id"};
        for (int i = 0; i < 4; i++) {
            field_names[i] = PyUnicode_InternFromString(names[i]);
            if (field_names[i] == NULL) {
                return NULL;
            }
        }
    }
    PyObject *descr = PyDescr_NewMethod(packet_type, &packet_init_def);
    if (descr == NULL) {
        return NULL;
    }
    int failed = PyObject_SetAttrString((PyObject *)packet_type, "__init__", descr);
    Py_DECREF(descr);
    if (failed) {
        return NULL;
    }
    /* after __init__ is set (setting it may reset the field); never inherited by subclasses */
    packet_type->tp_vectorcall = packet_vectorcall;
    Py_RETURN_NONE;
}

static PyObject *
configure_parser(PyObject *module, PyObject *args)
{
    PyObject *types, *names, *hook, *binary, *pure, *invalid;
    if (!PyArg_ParseTuple(args, "O!O!OO!OO:configure_parser", &PyTuple_Type, &types,
                          &PyFrozenSet_Type, &names, &hook, &PyTuple_Type, &binary, &pure,
                          &invalid)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(types) != 7) {
        PyErr_SetString(PyExc_ValueError, "configure_parser needs the seven packet types");
        return NULL;
    }
    for (int i = 0; i < 7; i++) {
        Py_INCREF(PyTuple_GET_ITEM(types, i));
        Py_XSETREF(ptypes[i], PyTuple_GET_ITEM(types, i));
    }
    Py_INCREF(names);
    Py_XSETREF(reserved, names);
    Py_INCREF(hook);
    Py_XSETREF(default_hook, hook);
    Py_INCREF(binary);
    Py_XSETREF(binary_types, binary);
    Py_INCREF(pure);
    Py_XSETREF(pure_reconstruct, pure);
    Py_INCREF(invalid);
    Py_XSETREF(invalid_packet, invalid);
    Py_RETURN_NONE;
}

static int
parser_configured(void)
{
    if (packet_type == NULL || invalid_packet == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "configure and configure_parser were not called");
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* The binary collector: orjson's `default` hook of one encode.                             */

typedef struct {
    PyObject_HEAD
    PyObject *attachments; /* a list, created at the first binary value */
    int busy;              /* in use by an encode (the codec's cached one) */
    vectorcallfunc vectorcall;
} Collector;

static PyObject *
collector_call(PyObject *self_obj, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Collector *self = (Collector *)self_obj;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0)) {
        PyErr_SetString(PyExc_TypeError, "the collector takes one value");
        return NULL;
    }
    PyObject *value = args[0];
    int binary;
    if (PyBytes_CheckExact(value) || PyByteArray_CheckExact(value) || PyMemoryView_Check(value)) {
        binary = 1;
    }
    else {
        binary = PyObject_IsInstance(value, binary_types);
        if (binary < 0) {
            return NULL;
        }
    }
    if (!binary) {
        return PyObject_CallOneArg(default_hook, value);
    }
    PyObject *data;
    if (PyBytes_CheckExact(value)) {
        Py_INCREF(value);
        data = value;
    }
    else {
        data = PyObject_CallOneArg((PyObject *)&PyBytes_Type, value);
        if (data == NULL) {
            return NULL;
        }
    }
    if (self->attachments == NULL) {
        self->attachments = PyList_New(0);
        if (self->attachments == NULL) {
            Py_DECREF(data);
            return NULL;
        }
    }
    int failed = PyList_Append(self->attachments, data);
    Py_DECREF(data);
    if (failed) {
        return NULL;
    }
    PyObject *num = PyLong_FromSsize_t(PyList_GET_SIZE(self->attachments) - 1);
    if (num == NULL) {
        return NULL;
    }
    PyObject *placeholder = PyDict_New();
    if (placeholder == NULL || PyDict_SetItem(placeholder, str_placeholder, Py_True) < 0 ||
        PyDict_SetItem(placeholder, str_num, num) < 0) {
        Py_XDECREF(placeholder);
        Py_DECREF(num);
        return NULL;
    }
    Py_DECREF(num);
    return placeholder;
}

static void
collector_dealloc(PyObject *self)
{
    Py_XDECREF(((Collector *)self)->attachments);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject CollectorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "siox.parser._speedups.Collector",
    .tp_basicsize = sizeof(Collector),
    .tp_dealloc = collector_dealloc,
    .tp_vectorcall_offset = offsetof(Collector, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "orjson's default hook for one encode: binary values become placeholders.",
};

static Collector *
collector_new(void)
{
    Collector *collector = PyObject_New(Collector, &CollectorType);
    if (collector != NULL) {
        collector->attachments = NULL;
        collector->busy = 0;
        collector->vectorcall = collector_call;
    }
    return collector;
}

/* ---------------------------------------------------------------------------------------- */
/* Codec: one orjson backend's functions.                                                   */

typedef struct {
    PyObject_HEAD
    PyObject *dumps;
    PyObject *loads;
    PyObject *option;
    Py_ssize_t max_depth;
    Collector *collector; /* reused while no other encode holds it */
} Codec;

static PyObject *
codec_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *dumps, *loads, *option;
    Py_ssize_t max_depth;
    static char *keywords[] = {"dumps", "loads", "option", "max_depth", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!n:Codec", keywords, &dumps, &loads,
                                     &PyLong_Type, &option, &max_depth)) {
        return NULL;
    }
    if (max_depth < 1) {
        PyErr_SetString(PyExc_ValueError, "max_depth must be >= 1");
        return NULL;
    }
    Codec *self = (Codec *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->collector = collector_new();
    if (self->collector == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(dumps);
    self->dumps = dumps;
    Py_INCREF(loads);
    self->loads = loads;
    Py_INCREF(option);
    self->option = option;
    self->max_depth = max_depth;
    return (PyObject *)self;
}

static void
codec_dealloc(PyObject *obj)
{
    Codec *self = (Codec *)obj;
    Py_XDECREF(self->dumps);
    Py_XDECREF(self->loads);
    Py_XDECREF(self->option);
    Py_XDECREF(self->collector);
    Py_TYPE(obj)->tp_free(obj);
}

/* The decimal digits of 0 <= value into out (at most 20 chars); returns their count. */
static int
put_digits(char *out, unsigned long long value)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (int i = 0; i < n; i++) {
        out[i] = tmp[n - 1 - i];
    }
    return n;
}

static int
is_ascii(const char *s, Py_ssize_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        unsigned long long chunk;
        memcpy(&chunk, p + i, 8);
        if (chunk & 0x8080808080808080ULL) {
            return 0;
        }
    }
    for (; i < n; i++) {
        if (p[i] & 0x80) {
            return 0;
        }
    }
    return 1;
}

/* head + body as one str (body is UTF-8 from orjson, head ASCII). */
static PyObject *
join_text(const char *head, Py_ssize_t head_len, const char *body, Py_ssize_t body_len)
{
    if (is_ascii(body, body_len)) {
        PyObject *text = PyUnicode_New(head_len + body_len, 127);
        if (text != NULL) {
            Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
            memcpy(out, head, head_len);
            memcpy(out + head_len, body, body_len);
        }
        return text;
    }
    char *buffer = PyMem_Malloc(head_len + body_len);
    if (buffer == NULL) {
        return PyErr_NoMemory();
    }
    memcpy(buffer, head, head_len);
    memcpy(buffer + head_len, body, body_len);
    PyObject *text = PyUnicode_DecodeUTF8(buffer, head_len + body_len, NULL);
    PyMem_Free(buffer);
    return text;
}

#define DECLINE() Py_RETURN_NONE

/* encode(ptype, nsp, data, ack_id, protocol) -> frames, or None: the Python path answers. */
static PyObject *
codec_encode(PyObject *obj, PyObject *const *args, Py_ssize_t nargs)
{
    Codec *self = (Codec *)obj;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "encode takes ptype, nsp, data, ack_id, protocol");
        return NULL;
    }
    if (!parser_configured()) {
        return NULL;
    }
    PyObject *ptype = args[0], *nsp = args[1], *data = args[2], *ack = args[3];
    int event;
    if (ptype == ptypes[EVENT]) {
        event = 1;
    }
    else if (ptype == ptypes[ACK]) {
        event = 0;
    }
    else {
        DECLINE();
    }
    if (nsp != str_slash &&
        !(PyUnicode_CheckExact(nsp) && PyUnicode_GET_LENGTH(nsp) == 1 &&
          PyUnicode_READ_CHAR(nsp, 0) == '/')) {
        DECLINE();
    }
    if (!PyList_CheckExact(data) || !PyLong_CheckExact(args[4])) {
        DECLINE();
    }
    char digits[24];
    int digits_len = 0;
    if (ack != Py_None) {
        if (!PyLong_CheckExact(ack)) {
            DECLINE();
        }
        int overflow;
        long long id = PyLong_AsLongLongAndOverflow(ack, &overflow);
        if (overflow || id < 0 || id > MAX_ACK_ID) {
            if (id == -1 && PyErr_Occurred()) {
                return NULL;
            }
            DECLINE();
        }
        digits_len = put_digits(digits, (unsigned long long)id);
    }
    if (event) {
        if (PyList_GET_SIZE(data) == 0) {
            DECLINE();
        }
        PyObject *name = PyList_GET_ITEM(data, 0);
        if (PyUnicode_CheckExact(name)) {
            int overflow;
            long protocol = PyLong_AsLongAndOverflow(args[4], &overflow);
            if (protocol == -1 && PyErr_Occurred()) {
                return NULL;
            }
            if (overflow) { /* nothing any parser is configured with */
                DECLINE();
            }
            if (protocol >= 5) {
                int found = PySet_Contains(reserved, name);
                if (found < 0) {
                    return NULL;
                }
                if (found) {
                    DECLINE();
                }
            }
        }
        else if (!PyLong_CheckExact(name) && !PyFloat_CheckExact(name)) {
            DECLINE();
        }
    }
    Collector *collector = self->collector;
    if (collector->busy) {
        collector = collector_new();
        if (collector == NULL) {
            return NULL;
        }
    }
    else {
        Py_INCREF(collector);
    }
    collector->busy = 1;
    PyObject *call[3] = {data, (PyObject *)collector, self->option};
    PyObject *body = PyObject_Vectorcall(self->dumps, call, 3, NULL);
    PyObject *attachments = collector->attachments;
    collector->attachments = NULL;
    collector->busy = 0;
    Py_DECREF(collector);
    if (body == NULL) {
        Py_XDECREF(attachments);
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear(); /* orjson declined: the Python path falls back to the stdlib */
            DECLINE();
        }
        return NULL;
    }
    if (!PyBytes_CheckExact(body)) {
        Py_DECREF(body);
        Py_XDECREF(attachments);
        DECLINE();
    }
    char head[48];
    Py_ssize_t head_len = 0;
    Py_ssize_t count = attachments == NULL ? 0 : PyList_GET_SIZE(attachments);
    if (count == 0) {
        head[head_len++] = event ? '2' : '3';
    }
    else {
        head[head_len++] = event ? '5' : '6';
        head_len += put_digits(head + head_len, (unsigned long long)count);
        head[head_len++] = '-';
    }
    memcpy(head + head_len, digits, digits_len);
    head_len += digits_len;
    PyObject *text =
        join_text(head, head_len, PyBytes_AS_STRING(body), PyBytes_GET_SIZE(body));
    Py_DECREF(body);
    if (text == NULL) {
        Py_XDECREF(attachments);
        return NULL;
    }
    PyObject *frames = PyList_New(1 + count);
    if (frames == NULL) {
        Py_DECREF(text);
        Py_XDECREF(attachments);
        return NULL;
    }
    PyList_SET_ITEM(frames, 0, text);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(attachments, i);
        Py_INCREF(item);
        PyList_SET_ITEM(frames, 1 + i, item);
    }
    Py_XDECREF(attachments);
    return frames;
}

/* Whether text[start:end] is one or more ASCII digits. */
static int
all_digits(int kind, const void *chars, Py_ssize_t start, Py_ssize_t end)
{
    if (end <= start) {
        return 0;
    }
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, chars, i);
        if (c < '0' || c > '9') {
            return 0;
        }
    }
    return 1;
}

static long long
digits_value(int kind, const void *chars, Py_ssize_t start, Py_ssize_t end)
{
    long long value = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        value = value * 10 + (PyUnicode_READ(kind, chars, i) - '0');
    }
    return value;
}

static Py_ssize_t
find_char(int kind, const void *chars, Py_UCS4 wanted, Py_ssize_t start, Py_ssize_t end)
{
    for (Py_ssize_t i = start; i < end; i++) {
        if (PyUnicode_READ(kind, chars, i) == wanted) {
            return i;
        }
    }
    return -1;
}

/* Whether the container nesting of value (at depth level) is deeper than limit, as
 * jsonbackend._depth_exceeds: 1, 0, or -1 (error; also for containers orjson never builds). */
static int
deeper_than(PyObject *value, Py_ssize_t level, Py_ssize_t limit)
{
    int list = PyList_CheckExact(value);
    if (!list && !PyDict_CheckExact(value)) {
        if (PyList_Check(value) || PyDict_Check(value)) {
            return 1; /* a subclass: let the Python path measure it */
        }
        return 0;
    }
    if (level > limit) {
        return 1;
    }
    if (Py_EnterRecursiveCall(" measuring JSON depth")) {
        return -1;
    }
    int found = 0;
    if (list) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value) && found == 0; i++) {
            found = deeper_than(PyList_GET_ITEM(value, i), level + 1, limit);
        }
    }
    else {
        Py_ssize_t pos = 0;
        PyObject *key, *item;
        while (found == 0 && PyDict_Next(value, &pos, &key, &item)) {
            found = deeper_than(item, level + 1, limit);
        }
    }
    Py_LeaveRecursiveCall();
    return found;
}

/* parse(text, protocol, max_attachments, build) -> the parse_text tuple, or None: the Python
 * path answers. With build true, a packet without attachments comes as [Packet]. */
static PyObject *
codec_parse(PyObject *obj, PyObject *const *args, Py_ssize_t nargs)
{
    Codec *self = (Codec *)obj;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "parse takes text, protocol, max_attachments, build");
        return NULL;
    }
    if (!parser_configured()) {
        return NULL;
    }
    PyObject *text = args[0];
    if (!PyUnicode_CheckExact(text) || !PyLong_CheckExact(args[1]) ||
        !PyLong_CheckExact(args[2])) {
        DECLINE();
    }
    int build = PyObject_IsTrue(args[3]);
    if (build < 0) {
        return NULL;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(text);
    if (size == 0) {
        DECLINE();
    }
    int kind = PyUnicode_KIND(text);
    const void *chars = PyUnicode_DATA(text);
    Py_UCS4 head = PyUnicode_READ(kind, chars, 0);
    if (head != '2' && head != '3' && head != '5' && head != '6') {
        DECLINE();
    }
    Py_ssize_t start = 1;
    long long count = 0;
    if (head == '5' || head == '6') {
        Py_ssize_t dash = find_char(kind, chars, '-', 1, size < 11 ? size : 11);
        if (dash <= 1 || !all_digits(kind, chars, 1, dash)) {
            DECLINE();
        }
        count = digits_value(kind, chars, 1, dash); /* at most 9 digits */
        int overflow;
        long long most = PyLong_AsLongLongAndOverflow(args[2], &overflow);
        if (most == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (count < 1 || (!overflow && count > most) || overflow < 0) {
            DECLINE();
        }
        start = dash + 1;
    }
    Py_ssize_t limit = start + 17 < size ? start + 17 : size;
    Py_ssize_t bracket = find_char(kind, chars, '[', start, limit);
    PyObject *ack_id = Py_None;
    long long id = -1;
    if (bracket == start) {
        /* no ack id */
    }
    else if (bracket > start && all_digits(kind, chars, start, bracket)) {
        id = digits_value(kind, chars, start, bracket); /* at most 16 digits */
        if (id > MAX_ACK_ID) {
            DECLINE();
        }
    }
    else {
        DECLINE();
    }
    int overflow;
    long protocol = PyLong_AsLongAndOverflow(args[1], &overflow);
    if (protocol == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow) { /* nothing any parser is configured with */
        DECLINE();
    }
    PyObject *json = PyUnicode_Substring(text, bracket, size);
    if (json == NULL) {
        return NULL;
    }
    PyObject *data = PyObject_Vectorcall(self->loads, &json, 1, NULL);
    if (data == NULL) {
        Py_DECREF(json);
        if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear(); /* the Python path lets the stdlib decide and explain */
            DECLINE();
        }
        return NULL;
    }
    Py_ssize_t json_len = size - bracket;
    if (json_len > 2 * self->max_depth) {
        /* jsonbackend._check_depth's second bound; past it, the Python path measures */
        Py_ssize_t brackets = 0;
        int jkind = PyUnicode_KIND(json);
        const void *jchars = PyUnicode_DATA(json);
        for (Py_ssize_t i = 0; i < json_len; i++) {
            Py_UCS4 c = PyUnicode_READ(jkind, jchars, i);
            brackets += (c == '[') | (c == '{');
        }
        if (brackets > self->max_depth) {
            int deep = deeper_than(data, 1, self->max_depth);
            if (deep != 0) {
                Py_DECREF(json);
                Py_DECREF(data);
                if (deep < 0) {
                    if (!PyErr_ExceptionMatches(PyExc_RecursionError)) {
                        return NULL;
                    }
                    PyErr_Clear();
                }
                DECLINE(); /* the Python path measures (and refuses) it */
            }
        }
    }
    Py_DECREF(json);
    int ptype;
    if (!PyList_CheckExact(data)) {
        Py_DECREF(data);
        DECLINE();
    }
    if (head == '3') {
        ptype = ACK;
    }
    else if (head == '6') {
        ptype = BINARY_ACK;
    }
    else {
        if (PyList_GET_SIZE(data) == 0) {
            Py_DECREF(data);
            DECLINE();
        }
        PyObject *name = PyList_GET_ITEM(data, 0);
        if (PyUnicode_CheckExact(name)) {
            if (protocol >= 5) {
                int found = PySet_Contains(reserved, name);
                if (found != 0) {
                    Py_DECREF(data);
                    if (found < 0) {
                        return NULL;
                    }
                    DECLINE();
                }
            }
        }
        else if (!PyLong_CheckExact(name) && !PyFloat_CheckExact(name)) {
            Py_DECREF(data);
            DECLINE();
        }
        ptype = head == '2' ? EVENT : BINARY_EVENT;
    }
    if (id >= 0) {
        ack_id = PyLong_FromLongLong(id);
        if (ack_id == NULL) {
            Py_DECREF(data);
            return NULL;
        }
    }
    else {
        Py_INCREF(ack_id);
    }
    PyObject *result;
    if (build && count == 0) {
        PyObject *values[4] = {ptypes[ptype], str_slash, data, ack_id};
        PyObject *packet = new_packet(values);
        result = packet == NULL ? NULL : PyList_New(1);
        if (result != NULL) {
            PyList_SET_ITEM(result, 0, packet);
        }
        else {
            Py_XDECREF(packet);
        }
        Py_DECREF(data);
        Py_DECREF(ack_id);
        return result;
    }
    PyObject *number = PyLong_FromLongLong(count);
    if (number == NULL) {
        Py_DECREF(data);
        Py_DECREF(ack_id);
        return NULL;
    }
    result = PyTuple_New(5);
    if (result == NULL) {
        Py_DECREF(data);
        Py_DECREF(ack_id);
        Py_DECREF(number);
        return NULL;
    }
    Py_INCREF(ptypes[ptype]);
    PyTuple_SET_ITEM(result, 0, ptypes[ptype]);
    Py_INCREF(str_slash);
    PyTuple_SET_ITEM(result, 1, str_slash);
    PyTuple_SET_ITEM(result, 2, data);
    PyTuple_SET_ITEM(result, 3, ack_id);
    PyTuple_SET_ITEM(result, 4, number);
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* reconstruct                                                                             */

static PyObject *
bad_placeholder(void)
{
    PyObject *message = PyUnicode_FromString("illegal attachments: bad placeholder index");
    if (message == NULL) {
        return NULL;
    }
    PyObject *error = PyObject_CallOneArg(invalid_packet, message);
    Py_DECREF(message);
    if (error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
        Py_DECREF(error);
    }
    return NULL;
}

static PyObject *walk(PyObject *data, PyObject *attachments);

/* The walked value of a container item (new reference). */
static PyObject *
walk_item(PyObject *item, PyObject *attachments)
{
    if (Py_EnterRecursiveCall(" in reconstruct")) {
        return NULL;
    }
    PyObject *result = walk(item, attachments);
    Py_LeaveRecursiveCall();
    return result;
}

static PyObject *
walk(PyObject *data, PyObject *attachments)
{
    if (PyList_CheckExact(data)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(data); i++) {
            PyObject *item = PyList_GET_ITEM(data, i);
            if (!PyList_Check(item) && !PyDict_Check(item)) {
                continue;
            }
            Py_INCREF(item);
            PyObject *walked = walk_item(item, attachments);
            Py_DECREF(item);
            if (walked == NULL) {
                return NULL;
            }
            if (i >= PyList_GET_SIZE(data)) { /* shrunk by pure code on a subclass */
                Py_DECREF(walked);
                PyErr_SetString(PyExc_IndexError, "list assignment index out of range");
                return NULL;
            }
            PyList_SetItem(data, i, walked); /* steals walked */
        }
        Py_INCREF(data);
        return data;
    }
    if (PyDict_CheckExact(data)) {
        PyObject *mark = PyDict_GetItemWithError(data, str_placeholder);
        if (mark == NULL && PyErr_Occurred()) {
            return NULL;
        }
        if (mark == Py_True) {
            PyObject *num = PyDict_GetItemWithError(data, str_num);
            if (num == NULL && PyErr_Occurred()) {
                return NULL;
            }
            if (num == NULL || !PyLong_CheckExact(num)) {
                return bad_placeholder();
            }
            int overflow;
            long long index = PyLong_AsLongLongAndOverflow(num, &overflow);
            if (index == -1 && PyErr_Occurred()) {
                return NULL;
            }
            if (overflow || index < 0 || index >= PyList_GET_SIZE(attachments)) {
                return bad_placeholder();
            }
            PyObject *found = PyList_GET_ITEM(attachments, index);
            Py_INCREF(found);
            return found;
        }
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(data, &pos, &key, &value)) {
            if (!PyList_Check(value) && !PyDict_Check(value)) {
                continue;
            }
            Py_INCREF(key);
            Py_INCREF(value);
            PyObject *walked = walk_item(value, attachments);
            Py_DECREF(value);
            if (walked == NULL) {
                Py_DECREF(key);
                return NULL;
            }
            int failed = PyDict_SetItem(data, key, walked);
            Py_DECREF(key);
            Py_DECREF(walked);
            if (failed) {
                return NULL;
            }
        }
        Py_INCREF(data);
        return data;
    }
    if (PyList_Check(data) || PyDict_Check(data)) { /* a subclass: the pure function */
        PyObject *call[2] = {data, attachments};
        return PyObject_Vectorcall(pure_reconstruct, call, 2, NULL);
    }
    Py_INCREF(data);
    return data;
}

static PyObject *
reconstruct(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "reconstruct takes data and attachments");
        return NULL;
    }
    if (!parser_configured()) {
        return NULL;
    }
    if (!PyList_CheckExact(args[1])) {
        return PyObject_Vectorcall(pure_reconstruct, args, 2, NULL);
    }
    return walk(args[0], args[1]);
}

/* ---------------------------------------------------------------------------------------- */

static PyMethodDef codec_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))codec_encode, METH_FASTCALL,
     "encode(ptype, nsp, data, ack_id, protocol): the frames, or None for the Python path."},
    {"parse", (PyCFunction)(void (*)(void))codec_parse, METH_FASTCALL,
     "parse(text, protocol, max_attachments, build): the fields, or None for the Python path."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CodecType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "siox.parser._speedups.Codec",
    .tp_basicsize = sizeof(Codec),
    .tp_dealloc = codec_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Codec(dumps, loads, option, max_depth): one orjson backend's parser fast paths.",
    .tp_methods = codec_methods,
    .tp_new = codec_new,
};

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Read the slot offsets of cls for fill and new."},
    {"configure_parser", configure_parser, METH_VARARGS,
     "Hand over the packet types, reserved names, hooks and error class."},
    {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL, "Store four slot values."},
    {"install_init", install_init, METH_NOARGS,
     "Install the compiled __init__ and constructor on the configured class."},
    {"new", (PyCFunction)(void (*)(void))new, METH_FASTCALL, "A new instance, slots filled."},
    {"reconstruct", (PyCFunction)(void (*)(void))reconstruct, METH_FASTCALL,
     "Put the attachments where the placeholders are (binary.reconstruct)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "siox.parser._speedups", "Optional compiled helpers.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&CollectorType) < 0 || PyType_Ready(&CodecType) < 0) {
        return NULL;
    }
    str_placeholder = PyUnicode_InternFromString("_placeholder");
    str_num = PyUnicode_InternFromString("num");
    str_slash = PyUnicode_InternFromString("/");
    if (str_placeholder == NULL || str_num == NULL || str_slash == NULL) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&CodecType);
    if (PyModule_AddObject(m, "Codec", (PyObject *)&CodecType) < 0) {
        Py_DECREF(&CodecType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
