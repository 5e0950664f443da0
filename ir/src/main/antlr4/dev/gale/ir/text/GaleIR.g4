/*
 * Gale text IR: the readable, parseable form of a Gale Model (see TextPrinter for the printer and TextParser for the
 * reader). One file holds one model:
 *
 *   // comments run to the end of the line
 *   model {opsets = {"" = 18, "ai.onnx.ml" = 3}, producer = "pytorch 2.1", metadata = {"author" = "me"}}
 *   graph @main(%x: tensor<[batch,784],f32>) -> (%y: tensor<[batch,10],f32>) {
 *     init %w = tensor<[10,784],f32> 0x0000803f...            // raw little-endian bytes, all of them
 *     init %b = tensor<[10],f32> [0.1, -0.25, ...]              // exact decimals, row-major
 *     %h: tensor<[batch,10],f32> = Gemm(%x, %w, %b) {transB = 1} @/fc1/Gemm
 *     %y: tensor<[batch,10],f32> = Relu(%h)
 *   }
 *
 * The model header is optional; absent fields mean opsets {"" = 18}, producer "gale" and no metadata.
 *
 * Graphs: `graph @name(inputs) -> (outputs) { body }`. Inputs and outputs are typed values; an input that also has an
 * `init` line is an input with a default (ONNX's initializer-as-input). The body lists initializers, then nodes in
 * order. Nested graphs (If/Loop/Scan bodies) are attribute values written inline, and may use values of the graphs
 * around them.
 *
 * Values: `%name`, or `%"any name"` when the name has characters other than letters, digits and `_ . $ / -`. Each
 * value is defined once; its type is written where it is defined (node results, graph inputs and outputs) and is
 * optional where unknown. `_` is an omitted optional input or output.
 *
 * Types: `tensor<[d0,d1,...],DTYPE>` where each dim is a size (`784`), a symbol (`batch`, or `"2*n"` quoted) or `?`
 * (unknown); `tensor<*,DTYPE>` has unknown rank; `tensor<[],f32>` is a scalar; `seq<T>`, `opt<T>`; `?` is an unknown
 * type. DTYPE is one of f32 f64 f16 bf16 i8 i16 i32 i64 u8 u16 u32 u64 bool str c64 c128.
 *
 * Nodes: `results = [domain::]Op(operands) {attributes} @node_name`; the results, attributes and name are optional.
 * Attribute values: `1` (int), `1.0`, `1.0E-5`, `inf`, `-inf`, `nan` (float: printed with Float.toString, so the
 * text reads back to the same bits), `"text"` (string, escapes \" \\ \n \r \t \uXXXX), a tensor literal, a graph, a
 * type (`tensor<*,f32>`, ONNX's TYPE_PROTO attributes), or a list `[1, 2]`, `[1.0]`, `["a"]`, `[tensor..., ...]`,
 * `[graph ..., ...]`. An empty list names its kind: `ints[]`, `floats[]`, `strings[]`, `tensors[]`, `graphs[]`.
 *
 * Tensor literals: a static tensor type, then the data in one of three forms:
 *   `tensor<[2],i64> [-1, 784]`   every element in row-major order (complex: re, im pairs; bool: true/false)
 *   `tensor<[2],f32> 0x0000803f0000c03f`   the raw little-endian bytes of every element
 *   `tensor<[10,784],f32> elided {min = ..., max = ..., mean = ..., first = [...]}`   a summary: the data is not in the
 *      text, so the parser refuses it (print with --inline-weights to get a file that loads).
 */
grammar GaleIR;

module_     : modelHeader? graph EOF ;

modelHeader : 'model' '{' (modelField (',' modelField)*)? '}' ;
modelField  : name '=' (STRING | '{' (mapEntry (',' mapEntry)*)? '}') ;
mapEntry    : STRING '=' (STRING | INT) ;

graph       : 'graph' GLOBAL_ID? '(' inputs=params? ')' '->' '(' outputs=params? ')' '{' stmt* '}' ;
params      : param (',' param)* ;
param       : VALUE_ID (':' type)? ;

stmt        : initStmt | nodeStmt ;
initStmt    : 'init' VALUE_ID '=' tensorLit ;
nodeStmt    : (result (',' result)* '=')? opRef '(' (operand (',' operand)*)? ')' attrDict? GLOBAL_ID? ;
result      : VALUE_ID (':' type)? | '_' ;
operand     : VALUE_ID | '_' ;
opRef       : (domain=opName '::')? op=opName ;
opName      : name | STRING ;

attrDict    : '{' (attr (',' attr)*)? '}' ;
attr        : (name | STRING) '=' attrValue ;
attrValue   : scalar                                   # scalarAttr
            | tensorLit                                # tensorAttr
            | graph                                    # graphAttr
            | kind=ID? '[' (attrValue (',' attrValue)*)? ']'  # listAttr
            | type                                     # typeAttr
            ;

tensorLit   : type tensorData ;
tensorData  : '[' (scalar (',' scalar)*)? ']'          # decimalData
            | HEX                                      # hexData
            | ID attrDict                              # elidedData
            ;
scalar      : INT | FLOAT | NONFINITE | STRING | ID ;

type        : 'tensor' '<' shape ',' ID '>'            # tensorType
            | 'seq' '<' type '>'                       # seqType
            | 'opt' '<' type '>'                       # optType
            | '?'                                      # unknownType
            ;
shape       : '*' | '[' (dim (',' dim)*)? ']' ;
dim         : INT | '?' | name | STRING ;

// Keywords are reserved only where the grammar expects them: they still work as attribute, op and dim names.
name        : ID | NONFINITE | '_' | 'model' | 'graph' | 'init' | 'tensor' | 'seq' | 'opt' ;

VALUE_ID    : '%' (BARE | QUOTED) ;
GLOBAL_ID   : '@' (BARE | QUOTED) ;
HEX         : '0x' [0-9a-fA-F]* ;
FLOAT       : '-'? DIGITS ('.' DIGITS? EXPONENT? | EXPONENT) ;
INT         : '-'? DIGITS ;
NONFINITE   : '-'? ('inf' | 'nan') ;
ID          : [A-Za-z_] [A-Za-z0-9_.]* ;
STRING      : QUOTED ;
LINE_COMMENT : '//' ~[\r\n]* -> skip ;
WS          : [ \t\r\n\u000C\uFEFF]+ -> skip ;

fragment BARE     : [A-Za-z0-9_.$/\-]+ ;
fragment QUOTED   : '"' (ESCAPE | ~["\\\r\n])* '"' ;
fragment ESCAPE   : '\\' (["\\nrt] | 'u' HEXDIGIT HEXDIGIT HEXDIGIT HEXDIGIT) ;
fragment HEXDIGIT : [0-9a-fA-F] ;
fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
