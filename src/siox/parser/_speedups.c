/* Optional compiled packet construction for siox.parser.packet.
 *
 * `Packet` is a frozen slotted dataclass: Python fills its four slots through their
 * descriptors' __set__, one call each, which is most of what building a packet costs. Once
 * `configure(cls, names)` has read the slots' offsets from the class's member descriptors,
 * `fill(obj, a, b, c, d)` stores the four values in one call and `new(a, b, c, d)` allocates an
 * instance and fills it. The pure-Python version in packet.py is the fallback and the
 * reference; tests compare both.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

static PyTypeObject *packet_type = NULL;
static Py_ssize_t offsets[4];

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
    PyObject *obj = packet_type->tp_alloc(packet_type, 0);
    if (obj == NULL) {
        return NULL;
    }
    store(obj, args);
    return obj;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Read the slot offsets of cls for fill and new."},
    {"fill", (PyCFunction)(void (*)(void))fill, METH_FASTCALL, "Store four slot values."},
    {"new", (PyCFunction)(void (*)(void))new, METH_FASTCALL, "A new instance, slots filled."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "siox.parser._speedups", "Optional compiled helpers.", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&module);
}
