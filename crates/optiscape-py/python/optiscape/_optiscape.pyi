"""Type stubs of the native module (the Rust side of optiscape; use the package's functions)."""

from typing import List, Optional, Tuple

import numpy as np
import numpy.typing as npt

__version__: str

class Surface:
    def __init__(
        self,
        spec: str,
        domain: Optional[str] = None,
        params: List[str] = ...,
        rotate: Optional[str] = None,
        instance: Optional[str] = None,
    ) -> None: ...
    def height(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
    def net_plane(self) -> Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], List[int], str]: ...
    def net_grid(self, n: int) -> npt.NDArray[np.float64]: ...
    def gradient(self, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
    @property
    def spec(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def domain(self) -> Tuple[float, float, float, float]: ...
    @property
    def default_start(self) -> Tuple[float, float]: ...
    @property
    def tol(self) -> float: ...
    @property
    def global_minimum(self) -> Tuple[float, List[Tuple[float, float]], bool]: ...
    @property
    def params(self) -> List[Tuple[str, float]]: ...
    @property
    def placement(self) -> Tuple[float, int]: ...

class BasinMap:
    def ends(self) -> npt.NDArray[np.float64]: ...
    def losses(self) -> npt.NDArray[np.float64]: ...
    def labels(self) -> npt.NDArray[np.int32]: ...
    def document(self) -> str: ...
    def image(self, min_size: int) -> Tuple[int, int, npt.NDArray[np.uint8]]: ...

def surface_catalog() -> str: ...
def method_catalog() -> str: ...
def trace(
    surface: Surface, method_id: str, sets: List[str], start: Optional[str], steps: str, seed: str
) -> Tuple[npt.NDArray[np.float64], str]: ...
def race(
    surface: Surface,
    method_ids: List[str],
    sets: List[str],
    starts: str,
    region_text: Optional[str],
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> str: ...
def basins(
    surface: Surface,
    method_id: str,
    sets: List[str],
    resolution: str,
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> BasinMap: ...
def sweep(
    surface: Surface,
    method_id: str,
    sets: List[str],
    param: str,
    range: str,
    points: str,
    starts: str,
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> Tuple[List[float], List[float], List[float], List[int]]: ...
def tune(
    surface: Surface,
    method_ids: List[str],
    sets: List[str],
    starts: str,
    region_text: Optional[str],
    budget: str,
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> str: ...
def ecdf(
    surface: Surface,
    method_ids: List[str],
    sets: List[str],
    starts: str,
    region_text: Optional[str],
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> Tuple[List[int], List[float], List[Tuple[str, List[float]]]]: ...
def phase(
    surface: Surface,
    method_id: str,
    sets: List[str],
    x: str,
    y: str,
    points: str,
    log_x: bool,
    log_y: bool,
    starts: str,
    region_text: Optional[str],
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
    budget_unit: str,
    grad_cost: str,
) -> Tuple[str, List[float], str, List[float], List[float], List[float]]: ...
def run_shard(
    surface: Surface,
    method_id: str,
    sets: List[str],
    starts: str,
    region_text: Optional[str],
    first: int,
    count: int,
    steps: str,
    seed: str,
    tol: Optional[str],
    precision: str,
) -> List[np.ndarray]: ...
def race_row(
    surface: Surface,
    method_id: str,
    x0: npt.NDArray[np.float64],
    y0: npt.NDArray[np.float64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    loss: npt.NDArray[np.float64],
    updates: npt.NDArray[np.uint64],
    first_success: npt.NDArray[np.int64],
    diverged: npt.NDArray[np.bool_],
    seed: str,
    tol: Optional[str],
    seconds: float,
) -> str: ...
def mann_whitney(x: List[float], y: List[float]) -> Tuple[float, float, bool]: ...
def holm(p: List[float]) -> List[float]: ...
def friedman(blocks: List[List[float]]) -> Tuple[float, float, List[float]]: ...
def coco_keys(
    a: List[Tuple[bool, float]], b: List[Tuple[bool, float]]
) -> Tuple[List[float], List[float]]: ...
def suite(spec: str) -> str: ...
def train(spec: str, weights: bool = ...) -> Tuple[str, List[str], List[Tuple[str, npt.NDArray[np.float64]]]]: ...
def suite_plan(spec: str) -> Tuple[List[Tuple[int, int]], int, int]: ...
def suite_tune_cell(spec: str, method: int, surface: int) -> str: ...
def suite_problem(spec: str, index: int, tuned: str) -> bytes: ...
def suite_analyze(spec: str, tuned: str, problems: List[bytes]) -> str: ...
